/**
 * The contract suite: the ledger, locking, transaction and load-method behaviour exactly-once
 * rests on, run against snowflake-local (default; `npm test`) or a real Snowflake account
 * (`npm run test:contract` with SNOWFLAKE_* set): target.ts picks, docs/contract-tests.md says how.
 * One target (one snowflake-local, or one scratch schema) serves the whole run.
 */
import { afterAll, beforeAll } from 'vitest';
import { ledgerContract } from './ledger.ts';
import { loadMethodContract } from './load-methods.ts';
import { selectTarget, startTarget, type ContractTarget } from './target.ts';
import { transactionContract } from './transactions.ts';

let target: ContractTarget | undefined;
beforeAll(async () => {
  target = await startTarget();
  console.log(target.label);
}, 120_000);
afterAll(async () => {
  await target?.stop();
}, 120_000);

const current = (): ContractTarget => {
  if (!target) throw new Error('The contract target did not start; see the error of the suite set-up above.');
  return target;
};

ledgerContract(current);
transactionContract(current, selectTarget() === 'snowflake-local');
loadMethodContract(current);
