/**
 * The platform VPC: three AZs of isolated subnets, no NAT and no internet gateway, with gateway endpoints
 * for S3/DynamoDB, the few interface endpoints in-VPC code calls, and flow logs into an encrypted log group.
 */
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ResourceNames } from '../config';

export interface NetworkProps {
  readonly names: ResourceNames;
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  /** Number of AZs to span; the stack's `availabilityZones` (from config) supplies their names. */
  readonly maxAzs: number;
}

/**
 * Interface endpoints, each justified by in-VPC code that calls the service (each costs per AZ-hour):
 * - Secrets Manager: database credentials for the functions, and the rotation function.
 * - SSM: runtime configuration (kill switch, risk limits) read by the order processor and health check.
 * - EventBridge: the order processor publishes OrderAccepted/OrderRejected events.
 * - X-Ray: trace segments of in-VPC functions would otherwise be dropped, leaving the hot path untraced.
 * - SQS: the order processor shortens the visibility of failed records (ChangeMessageVisibility), so a transient
 *   fault holds an account's orders for seconds instead of the 180 s visibility timeout. (The event source mapping
 *   itself polls SQS from the Lambda service and needs no endpoint.)
 */
export const INTERFACE_ENDPOINT_SERVICES = {
  SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  Ssm: ec2.InterfaceVpcEndpointAwsService.SSM,
  EventBridge: ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE,
  XRay: ec2.InterfaceVpcEndpointAwsService.XRAY,
  Sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
} as const;

/** Default settings: 10.40.0.0/16, /22 isolated subnet per AZ, DNS on, default security group stripped of rules. */
export class Network extends Construct {
  public readonly vpc: ec2.Vpc;
  /** Security group of the interface endpoints; in-VPC functions are allowed to it on 443. */
  public readonly endpointSecurityGroup: ec2.SecurityGroup;
  public readonly flowLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      vpcName: props.names.of('vpc', 'platform'),
      ipAddresses: ec2.IpAddresses.cidr('10.40.0.0/16'),
      maxAzs: props.maxAzs,
      natGateways: 0,
      createInternetGateway: false,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 }],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });

    for (const subnet of this.vpc.isolatedSubnets) {
      Validations.of(subnet).acknowledge({
        id: 'CloudFormation-Validate::W3010',
        reason: 'AZs are pinned in the typed environment config on purpose: synth must not look them up in the account, and the database writer/reader placement refers to them.',
      });
    }

    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogGroup', {
      logGroupName: props.names.logGroup('vpc', 'flow-logs'),
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const flowLogRole = new iam.Role(this, 'FlowLogRole', {
      roleName: props.names.of('role', 'vpc-flow-logs'),
      assumedBy: new iam.ServicePrincipal('vpc-flow-logs.amazonaws.com'),
      description: 'Lets VPC Flow Logs write to the platform flow log group',
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup, flowLogRole),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      securityGroupName: props.names.of('securityGroup', 'vpc-endpoints'),
      description: 'Interface VPC endpoints: HTTPS from in-VPC platform functions only',
      allowAllOutbound: false,
    });
    for (const [name, service] of Object.entries(INTERFACE_ENDPOINT_SERVICES)) {
      this.vpc.addInterfaceEndpoint(name, {
        service,
        privateDnsEnabled: true,
        open: false,
        securityGroups: [this.endpointSecurityGroup],
        subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      });
    }
  }

  /**
   * Creates, in `scope` (any stack of the stage), a security group for in-VPC code that may reach the interface
   * and gateway endpoints over HTTPS and nothing else until the caller allows more (e.g. the database port).
   */
  createClientSecurityGroup(scope: Construct, id: string, names: ResourceNames, purpose: string, description: string): ec2.SecurityGroup {
    const securityGroup = new ec2.SecurityGroup(scope, id, {
      vpc: this.vpc,
      securityGroupName: names.of('securityGroup', purpose),
      description,
      allowAllOutbound: false,
    });
    securityGroup.connections.allowTo(this.endpointSecurityGroup, ec2.Port.tcp(443), 'HTTPS to interface endpoints');
    // S3 and DynamoDB gateway endpoints are reached by public addresses routed to the endpoint; the VPC has no
    // internet gateway or NAT, so HTTPS to any address cannot leave AWS's network.
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to S3/DynamoDB gateway endpoints (no internet route exists)');
    return securityGroup;
  }
}
