/**
 * The AccountVendingMachine as a platform stack with every option on, captured for URN comparisons (see
 * `test/support/urnCapture.ts`). Shared by the URN spec and the script that wrote the fixture of the URNs
 * before the component was split into sub-components.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AccountVendingMachine } from "../../../src/components/accountVendingMachine";
import { UrnCapture } from "../../support/urnCapture";
import { AVM_BASE_ARGS } from "./avmArgs";

/** Builds the AVM with all options and returns the capture (call after installing the mocks; settle afterwards). */
export function captureAvm(): UrnCapture {
  const capture = new UrnCapture("dev", "meshstack-avm");
  const provider = new aws.Provider("automation", { region: "eu-central-1", allowedAccountIds: ["444455556666"] });
  new AccountVendingMachine(
    "avm",
    {
      ...AVM_BASE_ARGS,
      defaultOuId: "ou-ab12-cd34ef56",
      webhookSecret: pulumi.secret("0123456789abcdef"),
      pulumiAccessToken: pulumi.secret("pul-123"),
      pulumiOrganization: "example-org",
      externalId: pulumi.secret("ext-123"),
      deploymentsOidc: true,
    },
    { providers: [provider], transformations: [capture.transformation] },
  );
  return capture;
}
