/**
 * The memory binding's watcher thread (started by cgroup.ts): every `everyMs` while the shared record is
 * on, the limit again follows the anonymous memory charged to the group, so that memory a long phase
 * allocates (historical's batch root over many blocks' changes) moves the limit up with it instead of
 * meeting the OOM killer; page cache is what gives way. A thread of its own, so that it runs while the
 * main thread is busy.
 */
import { workerData } from 'node:worker_threads'

import { type LimitTarget, limitRecord, relimit } from './cgroupLimit.js'

const { target, shared, everyMs } = workerData as { target: LimitTarget; shared: SharedArrayBuffer; everyMs: number }
const record = limitRecord(shared)
setInterval(() => relimit(target, record), everyMs)
