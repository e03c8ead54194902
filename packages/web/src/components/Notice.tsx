/** A page with nothing to show but a sentence: no wallet yet, still reading, or why it cannot (an alert). */
export function Notice({
  title,
  text,
  alert = false,
}: {
  readonly title: string;
  readonly text: string;
  readonly alert?: boolean;
}) {
  return (
    <section>
      <h1>{title}</h1>
      {alert ? <p role="alert">{text}</p> : <p>{text}</p>}
    </section>
  );
}
