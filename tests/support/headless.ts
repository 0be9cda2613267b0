/** Starts the built headless server as a child process and reads its URL line. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './tmp';

export interface ServerHandle {
  url: string;
  origin: string;
  output: () => string;
  /** The server process's id (benches read its memory). */
  pid: number | undefined;
  stop(): Promise<void>;
}

export function startHeadless(args: string[]): Promise<ServerHandle> {
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(repoRoot, 'out', 'main', 'server.js'), '--port', '0', ...args],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not print its URL:\n${output}`)),
      30_000,
    );
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const line = output.split('\n').find((l) => /^http:\/\/\S+$/.test(l.trim()));
      if (!line) return;
      clearTimeout(timer);
      const url = line.trim();
      resolve({
        url,
        origin: new URL(url).origin,
        output: () => output,
        pid: child.pid,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
}
