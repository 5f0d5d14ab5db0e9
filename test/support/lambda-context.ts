/**
 * A Lambda `Context` for handler tests, with the fields Powertools reads; one place instead of one copy per test.
 */
import type { Context } from 'aws-lambda';

export function lambdaContext(purpose: string, remainingMs: number, memoryMb = 256): Context {
  const functionName = `lambda-${purpose}-us-east-1-test`;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: 'request-1',
    logGroupName: `/trading/test/lambda/${purpose}`,
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
