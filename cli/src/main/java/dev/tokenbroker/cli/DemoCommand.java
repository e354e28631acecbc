package dev.tokenbroker.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/** {@code tokenbroker demo}: see {@link Demo}. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    header = "See the three platforms' rules at work against embedded emulators.",
    description =
        "Starts the Cafe24, Naver and Kakao emulators in this process (real HTTP on 127.0.0.1, one fake clock that jumps days), and walks through each platform's flow, checking every rule at the emulator: connect and rotation, signed tokens and the 30-minute rule, PKCE and partial rotation, 200 callers and one renewal, 13 idle days survived, a revoke. Needs no configuration and no network. Exits 0 only if every check passed. With --verbose, every broker event is shown as it happens.")
final class DemoCommand implements Callable<Integer> {
  @ParentCommand TokenbrokerCommand root;

  @Override
  public Integer call() {
    try {
      return new Demo(root.console.out, root.verbose).run();
    } catch (Exception e) {
      return Failures.report(root.console, e, root.verbose);
    } finally {
      root.console.out.flush();
    }
  }
}
