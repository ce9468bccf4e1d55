/**
 * The folder lock lives in src/io/lock.ts so that layers below features/ (the model cache's downloads) take the
 * same lock; feature writers keep importing it from here.
 */
export { acquireLock, type FolderLock, LOCK_FILE, type LockInfo } from '../io/lock.js';
