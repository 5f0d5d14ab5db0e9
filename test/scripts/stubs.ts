/**
 * A scratch copy of the repository's scripts and a directory of stub commands (small sh scripts first on PATH), so a
 * pipeline or CI script runs for real, under the shell CodeBuild uses, while every tool it calls only records the call.
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from './harness';

export class ScriptSandbox {
  /** Root of the scratch repository: the scripts run with this as their working directory. */
  readonly repo: string;
  /** Stub commands, first on PATH. */
  readonly bin: string;
  /** Every stub appends `name args...` here, one line per call. */
  readonly callLog: string;

  private constructor(readonly root: string) {
    this.repo = join(root, 'repo');
    this.bin = join(root, 'bin');
    this.callLog = join(root, 'calls.log');
    mkdirSync(this.repo);
    mkdirSync(this.bin);
    writeFileSync(this.callLog, '');
  }

  /** A sandbox holding copies of the given repository files (paths relative to the repository root). */
  static create(files: readonly string[]): ScriptSandbox {
    const sandbox = new ScriptSandbox(mkdtempSync(join(tmpdir(), 'script-sandbox-')));
    for (const file of files) {
      const target = join(sandbox.repo, file);
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(join(REPO_ROOT, file), target);
    }
    return sandbox;
  }

  /** Writes a stub `name` that records its call, then runs `body` (sh, with "$@" the arguments). */
  stub(name: string, body = 'exit 0'): void {
    const file = join(this.bin, name);
    writeFileSync(file, `#!/bin/sh\nprintf '%s\\n' "${name} $*" >>'${this.callLog}'\n${body}\n`);
    chmodSync(file, 0o755);
  }

  /** Writes an executable that does nothing, e.g. a server binary a script only looks for. */
  executable(path: string): void {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '#!/bin/sh\nexit 0\n');
    chmodSync(path, 0o755);
  }

  calls(): string[] {
    return readFileSync(this.callLog, 'utf8').split('\n').filter(Boolean);
  }

  /** PATH with the stubs first, then only the system directories (no pyenv shims, no node_modules/.bin). */
  path(): string {
    return [this.bin, '/usr/local/sbin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':');
  }

  exists(path: string): boolean {
    return existsSync(join(this.repo, path));
  }

  read(path: string): string {
    return readFileSync(join(this.repo, path), 'utf8');
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** The POSIX shell CodeBuild runs buildspec commands with on Ubuntu images (/bin/sh is dash there). */
export const DASH = ['/usr/bin/dash', '/bin/dash'].find((candidate) => existsSync(candidate));
