/**
 * Jest globalSetup: starts one throwaway PostgreSQL and one moto_server for the whole run.
 * Endpoints reach the test workers through process.env (inherited) and .test-services/services.json.
 */
import { startServices } from './lifecycle';

export default async function globalSetup(): Promise<void> {
  await startServices();
}
