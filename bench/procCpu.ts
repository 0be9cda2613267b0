/**
 * CPU seconds (user + system) spent so far by every process below this one (the servers and
 * browsers a bench starts, and chromium's GPU, renderer and utility processes), read from
 * /proc. On a shared 2-core machine a start-up's wall time follows the CPU it needs, and the
 * CPU moves far less with the load than the wall time does. Linux only (null elsewhere); the
 * clock tick is taken as 100 Hz (USER_HZ on Linux's x86-64 and arm64 builds).
 */
import { readdirSync, readFileSync } from 'node:fs';

const USER_HZ = 100;

interface Proc {
  ppid: number;
  ticks: number;
}

function procs(): Map<number, Proc> | null {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return null;
  }
  const out = new Map<number, Proc>();
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // fields after the command name (which may hold spaces), from field 3 (state) on
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(name), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // the process ended while the list was read
    }
  }
  return out;
}

/** CPU seconds of every living descendant of `root` (default: this process), not `root` itself. */
export function descendantsCpu(root = process.pid): number | null {
  const all = procs();
  if (!all) return null;
  const below = new Set<number>([root]);
  // parents may be listed after their children: repeat until nothing is added
  for (let added = true; added;) {
    added = false;
    for (const [pid, p] of all)
      if (!below.has(pid) && below.has(p.ppid)) {
        below.add(pid);
        added = true;
      }
  }
  let ticks = 0;
  for (const pid of below) if (pid !== root) ticks += all.get(pid)?.ticks ?? 0;
  return ticks / USER_HZ;
}
