import { expect } from "chai";
import { createProgress } from "../../automation/progress";

function sink(
  isTTY: boolean,
  columns = 80,
): { chunks: string[]; stream: { write(c: string): boolean; isTTY: boolean; columns: number } } {
  const chunks: string[] = [];
  return { chunks, stream: { write: (c: string) => chunks.push(c) > 0, isTTY, columns } };
}

describe("createProgress", () => {
  it("prints plain start/finish lines when the stream is not a TTY and ignores engine chatter", () => {
    const { chunks, stream } = sink(false);
    const progress = createProgress(stream);
    progress.start("account-111111111111", "up");
    progress.update("account-111111111111", "+ aws:iam:Role creating");
    progress.succeed("account-111111111111", "up: 3 create");
    progress.fail("account-222222222222", "up account-222222222222 failed: error: boom");
    expect(chunks.join("")).to.equal(
      "account-111111111111: up started\n" +
        "account-111111111111: up: 3 create\n" +
        "account-222222222222: FAILED up account-222222222222 failed: error: boom\n",
    );
  });

  it("keeps one live line per stack on a TTY, redrawing in place", () => {
    const { chunks, stream } = sink(true);
    const progress = createProgress(stream);
    progress.start("account-111111111111", "up");
    progress.start("account-222222222222", "up");
    progress.update("account-111111111111", "+ aws:iam:Role creating");
    progress.succeed("account-222222222222", "up: 3 create");
    expect(chunks).to.deep.equal([
      "\x1b[2K… account-111111111111 up\n",
      "\x1b[1A\x1b[2K… account-111111111111 up\n\x1b[2K… account-222222222222 up\n",
      "\x1b[2A\x1b[2K… account-111111111111 + aws:iam:Role creating\n\x1b[2K… account-222222222222 up\n",
      "\x1b[2A\x1b[2K… account-111111111111 + aws:iam:Role creating\n\x1b[2K✔ account-222222222222 up: 3 create\n",
    ]);
  });

  it("truncates live lines to the terminal width", () => {
    const { chunks, stream } = sink(true, 30);
    createProgress(stream).start("account-111111111111", "a-very-long-verb-that-overflows");
    expect(chunks[0]).to.equal("\x1b[2K… account-111111111111 a-ver…\n");
  });
});
