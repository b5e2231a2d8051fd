/** Placeholder so the Pulumi program can bundle this handler; replaced by its owning issue. */
export async function handler(): Promise<never> {
  throw new Error("webhook handler not implemented yet");
}
