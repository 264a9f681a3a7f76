// Tests run the `s3-access-logs` command as users do, from the compiled dist/cli/. Rebuild it
// first, so they exercise the sources under test, not a build left over from an earlier edit.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  execFileSync(process.execPath, [fileURLToPath(new URL('../cli/build.mjs', import.meta.url))], { stdio: 'inherit' });
}
