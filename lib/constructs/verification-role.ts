/**
 * The role the pipeline's Staging verification assumes in the stage account: exactly the calls its checks make (signed
 * orders, the synthetic critical event, the audit and access logs, the alerting metrics, Route 53 and the alarms).
 */
import { CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ResourceNames } from '../config';
import { VERIFICATION_EVENT } from '../pipeline/verification-contract';
import { API_STAGE_NAME, OrderApi } from './order-api';
import { TradingEventBus } from './trading-event-bus';

export interface VerificationRoleProps {
  readonly names: ResourceNames;
  /** Account of the delivery pipeline, the only one that may assume the role. */
  readonly deliveryAccount: string;
  readonly api: OrderApi;
  readonly eventBus: TradingEventBus;
  /** Route 53 health check of the stage's API. */
  readonly healthCheckId: string;
}

/**
 * Default settings: role `role-verification-{region}-{suffix}`, assumable by the delivery account, one-hour sessions;
 * read-only everywhere except two writes the checks exist to make: orders on the API and one event type on the bus.
 */
export class VerificationRole extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: VerificationRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const api = props.api.api;
    this.role = new iam.Role(this, 'Role', {
      roleName: props.names.of('role', 'verification'),
      assumedBy: new iam.AccountPrincipal(props.deliveryAccount),
      description: 'Pipeline Staging verification: signed orders, synthetic critical event, logs, metrics, Route 53, alarms (read)',
      maxSessionDuration: Duration.hours(1),
    });
    const allow = (sid: string, actions: string[], resources: string[], conditions?: Record<string, Record<string, unknown>>): void => {
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources, ...(conditions ? { conditions } : {}) }));
    };
    allow('InvokeOrderRoutes', ['execute-api:Invoke'], [api.arnForExecuteApi('POST', '/orders', API_STAGE_NAME), api.arnForExecuteApi('GET', '/orders/*', API_STAGE_NAME)]);
    // The critical rule matches the platform's source; the detail type keeps the role from faking order or health events.
    allow('PutVerificationEvent', ['events:PutEvents'], [props.eventBus.bus.eventBusArn], {
      StringEquals: { 'events:source': [VERIFICATION_EVENT.source], 'events:detail-type': [VERIFICATION_EVENT.detailType] },
    });
    // CloudWatch Logs decrypts for the caller: reading a KMS-encrypted group needs no KMS permission of the reader.
    allow('ReadAuditAndAccessLogs', ['logs:FilterLogEvents'], [props.eventBus.auditLogGroup.logGroupArn, props.api.accessLogGroup.logGroupArn]);
    allow('ReadHealthCheckStatus', ['route53:GetHealthCheckStatus'], [`arn:${stack.partition}:route53:::healthcheck/${props.healthCheckId}`]);
    allow('ReadMetricsAndAlarms', ['cloudwatch:GetMetricData', 'cloudwatch:DescribeAlarms'], ['*']);
    Validations.of(this.role).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::arn:aws:execute-api:${stack.region}:${stack.account}:<${stack.getLogicalId(api.node.defaultChild as CfnElement)}>/${API_STAGE_NAME}/GET/orders/*]`,
        reason: 'GET of a single order by id on this API\'s v1 stage: the order id is the path parameter.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Read-only: cloudwatch:GetMetricData has no resource-level permissions, and DescribeAlarms returns composite alarms (the platform-degraded alarm) only to a permission scoped to * (CloudWatch API Reference, DescribeAlarms).',
      },
    );
  }
}
