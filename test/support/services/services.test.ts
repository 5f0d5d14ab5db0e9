/**
 * Proves the harness hands every test file a working PostgreSQL and moto_server.
 * Kept tiny: a failure here explains every other integration failure in the run.
 */
import { CreateQueueCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Client } from 'pg';
import { awsClientConfig, createTestDatabase, testServices } from './index';

describe('test services', () => {
  it('serves PostgreSQL with the advertised credentials', async () => {
    const client = new Client({ connectionString: testServices().postgres.connectionString });
    await client.connect();
    try {
      const result = await client.query<{ one: number }>('select 1 as one');
      expect(result.rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
  });

  it('creates an isolated database per call', async () => {
    const first = await createTestDatabase('Services Test!');
    const second = await createTestDatabase('services-test');
    expect(first.database).not.toEqual(second.database);
    expect(first.database).toMatch(/^services_test_\d+_\d+_[0-9a-f]{6}$/);
    const client = new Client({ connectionString: first.connectionString });
    await client.connect();
    try {
      const result = await client.query<{ name: string }>('select current_database() as name');
      expect(result.rows[0]?.name).toBe(first.database);
    } finally {
      await client.end();
    }
  });

  it('serves the AWS APIs through moto', async () => {
    const sqs = new SQSClient(awsClientConfig());
    try {
      const queueName = `services-test-${Date.now()}.fifo`;
      const created = await sqs.send(
        new CreateQueueCommand({ QueueName: queueName, Attributes: { FifoQueue: 'true' } }),
      );
      const found = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
      expect(found.QueueUrl).toBe(created.QueueUrl);
    } finally {
      sqs.destroy();
    }
  });

  it('points default-configured SDK clients at moto, never at AWS', () => {
    expect(process.env['AWS_ENDPOINT_URL']).toBe(awsClientConfig().endpoint);
    expect(process.env['AWS_ACCESS_KEY_ID']).toBe('testing');
  });
});
