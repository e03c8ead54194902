/**
 * The compute oracle's routes, read from the store's compute tables (empty on an oracle without
 * `compute`): GET /v1/compute/jobs (indexed jobs), GET /v1/compute/checks (this oracle's re-execution
 * checks) and GET /v1/compute/verdicts/:jobId (its check of the job, its probe of the job's output and
 * its signed FraudVerdicts: what the submitting peer collects; 404 unknown_job for a job it has not
 * indexed).
 */
import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";

import { ComputeStore, type IndexedJob, type StoredCheck } from "../../compute/store.js";
import { verdictToJson } from "../../compute/verdicts.js";
import { ROUTES } from "../routes.js";
import * as S from "../schemas.js";
import type { ApiDeps } from "../server.js";
import { endpoint, ERROR_RESPONSES, HttpError } from "./shared.js";

function jobJson(j: IndexedJob) {
  return {
    id: j.id.toString(),
    customer: j.customer,
    specHash: j.specHash,
    deviceClass: j.deviceClass,
    maxUnits: j.maxUnits.toString(),
    pricePerUnit: j.pricePerUnit.toString(),
    deadline: j.deadline,
    tier: j.tier === 1 ? ("verified" as const) : ("standard" as const),
    createdAt: j.createdAt,
    directedTo: j.directedTo?.toString() ?? null,
    status: j.status,
    provider: j.provider,
    device: j.deviceId?.toString() ?? null,
    acceptedAt: j.acceptedAt,
    secondProvider: j.secondProvider,
    resultHash: j.resultHash,
    committedAt: j.committedAt,
    checkSelected: j.checkSelected,
    resultsDiffer: j.resultsDiffer,
    disputed: j.disputed,
    penalty: j.penalty,
    penaltyExecutableAt: j.penaltyExecutableAt,
  };
}

function checkJson(c: StoredCheck) {
  return {
    jobId: c.jobId.toString(),
    outcome: c.outcome,
    reason: c.reason,
    provider: c.provider,
    committedHash: c.committedHash,
    evidenceHash: c.evidenceHash,
    detail: c.detail,
    checkedAt: c.checkedAt,
  };
}

export function computeRoutes({ store }: ApiDeps): FastifyPluginAsyncJsonSchemaToTs {
  const compute = new ComputeStore(store.storageSql());
  return async (app) => {
    app.route({
      ...endpoint(ROUTES.computeJobs),
      schema: {
        querystring: S.COMPUTE_JOBS_QUERY,
        response: { 200: S.COMPUTE_JOBS_RESPONSE, ...ERROR_RESPONSES },
      },
      handler: async (request) => {
        const q = request.query;
        const jobs = await compute.jobs({
          ...(q.provider !== undefined ? { provider: q.provider } : {}),
          ...(q.device !== undefined ? { deviceId: BigInt(q.device) } : {}),
          ...(q.status !== undefined ? { status: q.status } : {}),
          limit: q.limit,
        });
        return { jobs: jobs.map(jobJson) };
      },
    });

    app.route({
      ...endpoint(ROUTES.computeChecks),
      schema: {
        querystring: S.COMPUTE_CHECKS_QUERY,
        response: { 200: S.COMPUTE_CHECKS_RESPONSE, ...ERROR_RESPONSES },
      },
      handler: async (request) => {
        const q = request.query;
        const checks = await compute.checks({
          ...(q.outcome !== undefined ? { outcome: q.outcome } : {}),
          limit: q.limit,
        });
        return { checks: checks.map(checkJson) };
      },
    });

    app.route({
      ...endpoint(ROUTES.computeVerdicts),
      schema: {
        params: S.COMPUTE_VERDICT_PARAMS,
        response: { 200: S.COMPUTE_VERDICT_RESPONSE, ...ERROR_RESPONSES },
      },
      handler: async (request) => {
        const jobId = BigInt(request.params.jobId);
        if ((await compute.job(jobId)) === null)
          throw new HttpError(404, `job ${jobId} is not in this oracle's compute index`, "unknown_job");
        const check = await compute.check(jobId);
        const probe = await compute.probe(jobId);
        return {
          jobId: jobId.toString(),
          check: check === null ? null : checkJson(check),
          probe:
            probe === null
              ? null
              : {
                  failures: probe.failures,
                  lastFailureAt: probe.lastFailureAt,
                  servedAt: probe.servedAt,
                  withheldAt: probe.withheldAt,
                  evidenceHash: probe.evidenceHash,
                  detail: probe.detail,
                },
          verdicts: (await compute.verdicts(jobId)).map(verdictToJson),
        };
      },
    });
  };
}
