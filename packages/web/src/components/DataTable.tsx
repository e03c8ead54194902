/** An accessible table: a caption, column headers with scope, one row per record. */
import type { ReactNode } from "react";

export interface Column<T> {
  readonly header: string;
  readonly cell: (row: T) => ReactNode;
  /** Numbers align right. */
  readonly numeric?: boolean;
}

export function DataTable<T>(props: {
  readonly caption: ReactNode;
  readonly columns: readonly Column<T>[];
  readonly rows: readonly T[];
  readonly rowKey: (row: T) => string;
  readonly testId?: string;
  readonly empty?: string;
}) {
  const { caption, columns, rows, rowKey, testId, empty } = props;
  return (
    <table data-testid={testId}>
      <caption>{caption}</caption>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c.header} scope="col" className={c.numeric ? "num" : undefined}>
              {c.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr>
            <td colSpan={columns.length}>{empty ?? "none"}</td>
          </tr>
        ) : (
          rows.map((r) => (
            <tr key={rowKey(r)}>
              {columns.map((c) => (
                <td key={c.header} className={c.numeric ? "num" : undefined}>
                  {c.cell(r)}
                </td>
              ))}
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}
