import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Small filesystems for storage faults under a running batchd (the tests run as root):
 * - a tmpfs of a few MiB, which a filler file makes full (writes fail with ENOSPC);
 * - an ext4 image mounted through a loop device, whose files can be made immutable with
 *   `chattr +i`: ext4 then refuses writes even through descriptors opened earlier (EPERM), which
 *   is how the database files of a running process become read-only. (A remount read-only is
 *   refused while a process holds files open for writing, and tmpfs ignores the immutable flag
 *   on open descriptors.)
 */

function run(command: string, args: string[]): void {
  try {
    execFileSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`${command} ${args.join(' ')} failed: ${stderr || (error as Error).message}`);
  }
}

export function mountTmpfs(dir: string, sizeMiB: number): void {
  run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir]);
}

/** Makes an ext4 filesystem in `image` (no blocks reserved for root) and mounts it on `dir`. */
export function mountExt4Image(image: string, dir: string, sizeMiB: number): void {
  run('truncate', ['-s', `${sizeMiB}M`, image]);
  run('mkfs.ext4', ['-q', '-F', '-m', '0', image]);
  run('mount', ['-o', 'loop', image, dir]);
}

/** Unmounts `dir`, detaching it lazily if something still holds it. */
export function unmount(dir: string): void {
  try {
    run('umount', [dir]);
  } catch {
    run('umount', ['-l', dir]);
  }
}

/** Sets or clears the immutable attribute of `paths`. */
export function setImmutable(paths: string[], immutable: boolean): void {
  run('chattr', [immutable ? '+i' : '-i', ...paths]);
}

/**
 * Writes a filler file in `dir` until the filesystem is full (blocks of 64 KiB, then smaller
 * pieces for what is left); returns its path and size.
 */
export function fillDisk(dir: string): { path: string; bytes: number } {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(64 * 1024, 0x78);
  let bytes = 0;
  try {
    for (const size of [block.length, 4096, 512, 1]) {
      // Each round either takes `size` bytes of a filesystem of bounded size or ends the loop.
      for (let round = 0; round < (1024 * 1024 * 1024) / size; round++) {
        try {
          bytes += writeSync(fd, block, 0, size);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return { path, bytes };
}

export function removeFile(path: string): void {
  rmSync(path, { force: true });
}
