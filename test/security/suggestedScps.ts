/** The guardrail SCPs, from the program (`src/policies/guardrailScps.ts`), for the simulator proofs. */
export {
  ROLE_CHANGING_ACTIONS,
  SAML_PROVIDER_CHANGING_ACTIONS,
  suggestedScps,
  type ScpNames,
} from "../../src/policies/guardrailScps";
