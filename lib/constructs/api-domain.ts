/**
 * Optional public DNS for the API: a DNS-validated certificate, a regional custom domain mapped to stage `v1`, and an
 * alias record associated with the Route 53 health check. Only created when the environment has a hosted zone.
 */
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import { HostedZoneConfig } from '../config';
import { API_STAGE_NAME } from './order-api';

export interface ApiDomainProps {
  readonly hostedZone: HostedZoneConfig;
  readonly api: apigateway.RestApi;
  readonly healthCheckId: string;
}

/** Default settings: TLS 1.2 minimum, base path `v1` (so URLs stay `https://{domain}/v1/...`), A alias record. */
export class ApiDomain extends Construct {
  public readonly domainName: string;
  public readonly record: route53.ARecord;

  constructor(scope: Construct, id: string, props: ApiDomainProps) {
    super(scope, id);
    // Attributes from config, not a lookup: synth stays offline.
    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: props.hostedZone.hostedZoneId,
      zoneName: props.hostedZone.zoneName,
    });
    this.domainName = `${props.hostedZone.apiRecordName}.${props.hostedZone.zoneName}`;
    const certificate = new acm.Certificate(this, 'Certificate', {
      domainName: this.domainName,
      validation: acm.CertificateValidation.fromDns(zone),
    });
    const domain = new apigateway.DomainName(this, 'DomainName', {
      domainName: this.domainName,
      certificate,
      endpointType: apigateway.EndpointType.REGIONAL,
      securityPolicy: apigateway.SecurityPolicy.TLS_1_2,
    });
    domain.addBasePathMapping(props.api, { basePath: API_STAGE_NAME, stage: props.api.deploymentStage });
    this.record = new route53.ARecord(this, 'AliasRecord', {
      zone,
      recordName: props.hostedZone.apiRecordName,
      target: route53.RecordTarget.fromAlias(new route53Targets.ApiGatewayDomain(domain)),
      healthCheck: route53.HealthCheck.fromHealthCheckId(this, 'HealthCheck', props.healthCheckId),
    });
  }
}
