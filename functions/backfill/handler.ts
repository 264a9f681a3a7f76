/**
 * Lambda entry for backfill and replay. Thin: configuration and clients at cold start, then
 * `runBackfill` (core.ts) does the work. Continuing invocations re-invoke this same function
 * asynchronously (InvocationType Event) with a continuation payload.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { loadBackfillConfig, type BackfillConfig } from '../../shared/config.ts';
import { runBackfill, type BackfillDeps, type BackfillSummary } from './core.ts';
import { snowflakeLedger, type Ledger } from './ledger.ts';
import type { RedriveSummary } from './redrive.ts';
import { BackfillRequestError, type BackfillPayload } from './request.ts';
import { snowflakeExecutor } from './snowflake.ts';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 's3-access-logs-backfill' });

let cold: { config: BackfillConfig; s3: S3Client; sqs: SQSClient; lambda: LambdaClient; ledger: Ledger } | undefined;

function init() {
  if (!cold) {
    const config = loadBackfillConfig(process.env);
    logger.setLogLevel(config.logLevel);
    cold = {
      config,
      s3: new S3Client({ region: config.region }),
      sqs: new SQSClient({ region: config.region }),
      lambda: new LambdaClient({ region: config.region }),
      ledger: snowflakeLedger(snowflakeExecutor(config.snowflake)),
    };
  }
  return cold;
}

export async function handler(
  event: BackfillPayload,
  context: Context,
): Promise<BackfillSummary | RedriveSummary | { error: string; field: string }> {
  const { config, s3, sqs, lambda, ledger } = init();
  logger.addContext(context);
  const deps: BackfillDeps = {
    config,
    s3,
    sqs,
    ledger,
    logger: {
      info: (message, extra) => logger.info(message, extra ?? {}),
      warn: (message, extra) => logger.warn(message, extra ?? {}),
    },
    async continueWith(payload) {
      const out = await lambda.send(
        new InvokeCommand({
          FunctionName: context.invokedFunctionArn ?? context.functionName,
          InvocationType: 'Event',
          Payload: Buffer.from(JSON.stringify(payload)),
        }),
      );
      return out.$metadata.requestId ?? `status-${out.StatusCode ?? '?'}`;
    },
  };
  try {
    return await runBackfill(deps, event, context);
  } catch (err) {
    if (err instanceof BackfillRequestError) {
      // A bad payload is the caller's to fix: answer it (the CLI prints it) instead of failing the
      // invocation, which for async invocations would only trigger pointless retries.
      logger.warn('invalid backfill payload', { field: err.field, error: err.message });
      return { error: err.message, field: err.field };
    }
    throw err;
  }
}
