import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { Settings } from './settings.js';
import { SPA_ROUTING_SOURCE } from './spa-routing.js';

/** Key prefix of banner objects: CloudFront's `/banners/*` maps straight onto it. */
export const BANNER_KEY_PREFIX = 'banners/';

/**
 * A private bucket: no public access of any kind, objects owned by the bucket owner (no ACLs), encrypted with
 * S3-managed keys (SSE-S3: what the buckets hold is published to everyone through CloudFront, so a KMS key
 * would add a key policy for CloudFront to read through and protect nothing more), TLS 1.2+ only, versioned
 * so an overwritten or deleted object can be restored for 30 days. Kept when the stack is deleted.
 */
function privateBucket(scope: Construct, id: string): s3.Bucket {
  return new s3.Bucket(scope, id, {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    versioned: true,
    lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(7) }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/**
 * A bucket reached through origin access control: CloudFront signs its requests (SigV4) and the bucket policy
 * lets only this distribution read, and only the keys matching `keys`. (The library's OAC origin grants the
 * whole bucket; the banner bucket's distribution needs `banners/*` only.)
 */
class PrivateBucketOrigin extends origins.S3BucketOrigin {
  constructor(
    private readonly target: s3.IBucket,
    private readonly accessControl: cloudfront.S3OriginAccessControl,
    private readonly keys: string,
  ) {
    super(target);
  }

  override bind(scope: Construct, options: cloudfront.OriginBindOptions): cloudfront.OriginBindConfig {
    this.target.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudFrontReadsThroughOriginAccessControl',
        principals: [new iam.ServicePrincipal('cloudfront.amazonaws.com')],
        actions: ['s3:GetObject'],
        resources: [this.target.arnForObjects(this.keys)],
        conditions: { StringEquals: { 'AWS:SourceArn': `arn:${Aws.PARTITION}:cloudfront::${Aws.ACCOUNT_ID}:distribution/${options.distributionId}` } },
      }),
    );
    const config = super.bind(scope, options);
    return { ...config, originProperty: { ...config.originProperty!, originAccessControlId: this.accessControl.originAccessControlId } };
  }
}

/**
 * The public face: the web bucket (the React build, uploaded by `npm run deploy:web`), the banner bucket
 * (written by the events service) and one CloudFront distribution in front of both and of the cluster's
 * load balancer.
 *
 * | path            | origin           | caching                                                          |
 * |-----------------|------------------|------------------------------------------------------------------|
 * | `/api/*`        | load balancer    | none; every method, header, cookie and query string passes       |
 * | `/socket.io/*`  | load balancer    | none (WebSocket upgrades pass through CloudFront)                |
 * | `/banners/*`    | banner bucket    | a year: every upload has a new file name                         |
 * | everything else | web bucket       | as the objects say (hashed assets immutable, index.html no-cache)|
 */
export class Edge extends Construct {
  readonly webBucket: s3.Bucket;
  readonly bannerBucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;

  constructor(scope: Construct, id: string, settings: Pick<Settings, 'albDomainName' | 'albProtocol' | 'domain'>) {
    super(scope, id);
    this.webBucket = privateBucket(this, 'WebBucket');
    this.bannerBucket = privateBucket(this, 'BannerBucket');
    const accessControl = new cloudfront.S3OriginAccessControl(this, 'OriginAccessControl', {
      description: 'CloudFront reads the DEMS web and banner buckets',
      signing: cloudfront.Signing.SIGV4_ALWAYS,
    });

    const spaRouting = new cloudfront.Function(this, 'SpaRouting', {
      comment: 'App routes get /index.html; files and API paths pass unchanged',
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(SPA_ROUTING_SOURCE),
    });

    const api = settings.albDomainName ? this.apiBehaviour(settings.albDomainName, settings.albProtocol) : null;
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'DEMS: web app, banners and API',
      defaultRootObject: 'index.html',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      ...(settings.domain
        ? {
            domainNames: [settings.domain.name],
            certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', settings.domain.certificateArn),
            minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
          }
        : {}),
      defaultBehavior: {
        origin: new PrivateBucketOrigin(this.webBucket, accessControl, '*'),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        // Honours each object's Cache-Control, which deploy:web sets per file.
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
        functionAssociations: [{ function: spaRouting, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      },
      additionalBehaviors: {
        ...(api ? { '/api/*': api, '/socket.io/*': api } : {}),
        [`/${BANNER_KEY_PREFIX}*`]: {
          origin: new PrivateBucketOrigin(this.bannerBucket, accessControl, `${BANNER_KEY_PREFIX}*`),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          cachePolicy: new cloudfront.CachePolicy(this, 'BannerCaching', {
            comment: 'Banners never change at a URL: a new upload gets a new file name',
            defaultTtl: Duration.days(365),
            minTtl: Duration.days(1),
            maxTtl: Duration.days(365),
          }),
          responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
          // WebP is compressed already.
          compress: false,
        },
      },
    });
  }

  /**
   * The load balancer made by the AWS Load Balancer Controller from the Ingress. Nothing is cached and the
   * viewer's request passes whole (methods, headers but Host, cookies, query strings), so sign-in, purchases
   * and Socket.IO behave as they do at the load balancer. Viewers must use HTTPS (a redirect would turn a POST
   * into a GET).
   *
   * The viewer's address reaches the gateway whatever the origin request policy: for a custom origin CloudFront
   * always appends the address the viewer connected from to X-Forwarded-For (after anything the viewer sent in it),
   * and the ALB appends CloudFront's. Hence the gateway's TRUST_PROXY=2 in the eks overlay, and the ALB's security
   * group admitting CloudFront alone (load-balancer-access.ts).
   */
  private apiBehaviour(domainName: string, protocol: Settings['albProtocol']): cloudfront.BehaviorOptions {
    return {
      origin: new origins.HttpOrigin(domainName, {
        protocolPolicy: protocol === 'https' ? cloudfront.OriginProtocolPolicy.HTTPS_ONLY : cloudfront.OriginProtocolPolicy.HTTP_ONLY,
        originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
        // Socket.IO's long-polling holds a request for up to its ping interval (25 s); leave room.
        readTimeout: Duration.seconds(60),
      }),
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
    };
  }
}
