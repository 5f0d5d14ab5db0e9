/**
 * With a hosted zone configured, the API gets a certificate, a custom domain on stage v1 and an alias record tied to
 * the Route 53 health check; without one (the default), none of these exist.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { synthesizeStage, testConfig } from '../../support/cdk-app';

describe('API custom domain', () => {
  it('is created with certificate, base path v1 and a health-checked alias when a hosted zone is configured', () => {
    const config = { ...testConfig('dns').sandbox, hostedZone: { hostedZoneId: 'Z0123456789ABC', zoneName: 'trading.example.com', apiRecordName: 'api' } };
    const service = Template.fromStack(synthesizeStage(config).stage.serviceStack);
    service.hasResourceProperties('AWS::CertificateManager::Certificate', { DomainName: 'api.trading.example.com', ValidationMethod: 'DNS' });
    service.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'api.trading.example.com',
      EndpointConfiguration: { Types: ['REGIONAL'] },
      SecurityPolicy: 'TLS_1_2',
    });
    service.hasResourceProperties('AWS::ApiGateway::BasePathMapping', { BasePath: 'v1', Stage: Match.anyValue() });
    service.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'api.trading.example.com.',
      Type: 'A',
      HostedZoneId: 'Z0123456789ABC',
      HealthCheckId: { 'Fn::GetAtt': [Match.stringLikeRegexp('HealthHealthCheck'), 'HealthCheckId'] },
      AliasTarget: Match.objectLike({ DNSName: Match.anyValue() }),
    });
  });

  it('is absent without a hosted zone', () => {
    const service = Template.fromStack(synthesizeStage().stage.serviceStack);
    service.resourceCountIs('AWS::ApiGateway::DomainName', 0);
    service.resourceCountIs('AWS::Route53::RecordSet', 0);
  });
});
