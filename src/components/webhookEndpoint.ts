import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { FIXED_NAME_OPTIONS, movedChild } from "./movedChild";

/** Arguments of {@link WebhookEndpoint}. */
export interface WebhookEndpointArgs {
  /** Name of the webhook function. */
  readonly functionName: pulumi.Input<string>;
}

/**
 * The public HTTPS endpoint Pulumi Cloud delivers webhooks to: a Function URL without AWS authentication (Pulumi
 * Cloud cannot sign AWS requests; the function verifies the HMAC signature instead) and the two permissions a public
 * Function URL needs since October 2025 (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html).
 *
 * Children: `<name>-url`, `<name>-url-invoke`, `<name>-function-invoke`.
 */
export class WebhookEndpoint extends pulumi.ComponentResource {
  /** Pulumi type token. */
  static readonly TYPE = "avm:vending:WebhookEndpoint";
  /** The Function URL to register as Pulumi Cloud webhook. */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: WebhookEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
    super(WebhookEndpoint.TYPE, name, {}, opts);
    const child = movedChild(this, opts);
    const functionUrl = new aws.lambda.FunctionUrl(
      `${name}-url`,
      { functionName: args.functionName, authorizationType: "NONE", invokeMode: "BUFFERED" },
      // One URL per function: a replacement must remove the old one first.
      { ...child, ...FIXED_NAME_OPTIONS },
    );
    new aws.lambda.Permission(
      `${name}-url-invoke`,
      { function: args.functionName, action: "lambda:InvokeFunctionUrl", principal: "*", functionUrlAuthType: "NONE" },
      child,
    );
    new aws.lambda.Permission(
      `${name}-function-invoke`,
      { function: args.functionName, action: "lambda:InvokeFunction", principal: "*", invokedViaFunctionUrl: true },
      child,
    );
    this.url = functionUrl.functionUrl;
    this.registerOutputs({ url: this.url });
  }
}
