/**
 * Jest globalTeardown: stops the run's PostgreSQL and moto_server and deletes their temp dirs.
 * Exit/signal handlers and a watchdog cover the runs that never reach this point.
 */
import { stopServices } from './lifecycle';

export default async function globalTeardown(): Promise<void> {
  await stopServices();
}
