/**
 * fauxqs in its own process, for bench/ingest.ts: so the CPU of the ingest handler (the Lambda
 * side) and the CPU of the local S3 it talks to are measured apart. Speaks over IPC:
 * it sends { endpoint, region, credentials } once listening; answers 'cpu' with its CPU seconds;
 * stops on 'stop'.
 */
import { startAwsLocal } from '../local/aws.ts';

const aws = await startAwsLocal();
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
process.on('message', (m) => {
  if (m === 'cpu') process.send!({ cpu: cpu() });
  if (m === 'stop') void aws.stop().then(() => process.exit(0));
});
process.send!({ endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials });
