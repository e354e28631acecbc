package dev.tokenbroker.cli;

import dev.tokenbroker.TokenBrokerBuilder;
import dev.tokenbroker.serve.ServeConfig;
import dev.tokenbroker.serve.TokenService;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code tokenbroker serve}: the broker as a long-running local token service (module {@code
 * tokenbroker-serve}) for scripts that are not on the JVM. Stops cleanly on SIGTERM or Ctrl-C: the
 * shutdown hook stops the server (requests in flight finish), then closes the broker (unsaved sets
 * get a last save).
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    header = "Serve tokens on a Unix socket and/or TCP until stopped.",
    description =
        "Runs the broker (keep-alive on) and answers GET /v1/connections/{id}/token (JSON, or the bare token with ?format=text), GET /v1/connections[/{id}] (health, no token) and POST /v1/connections/{id}/refresh, on a Unix socket (mode 0600) and/or TCP (a bearer secret per client). Listeners, clients and webhooks come from --serve-config FILE (see serve/README.md); --socket PATH alone serves on a socket without one. Logs one JSON line per event and request. Safe to run on several machines sharing a store.")
final class ServeCommand implements Callable<Integer> {
  @ParentCommand TokenbrokerCommand root;

  @Option(
      names = "--serve-config",
      paramLabel = "FILE",
      description = "YAML: socket, tcp, clients, webhooks (see serve/README.md)")
  @Nullable Path serveConfig;

  @Option(
      names = "--socket",
      paramLabel = "PATH",
      description = "serve on this Unix socket (replaces the file's socket.path)")
  @Nullable Path socket;

  @Mixin KeepAliveOptions keepAlive;

  @Override
  public Integer call() {
    Console console = root.console;
    PrintWriter out = console.out;
    CountDownLatch stopped = new CountDownLatch(1);
    AtomicBoolean stopping = new AtomicBoolean();
    TokenService service;
    try {
      ServeConfig config = config(console);
      Path file = root.configFile();
      TokenbrokerCommand.refuseMemoryStore(file);
      TokenBrokerBuilder builder =
          keepAlive
              .brokerBuilder()
              .configFile(file)
              .environment(console.environment)
              .clock(console.clock);
      service =
          TokenService.builder(config)
              .clock(console.clock)
              .start(console.brokerSetup.apply(builder));
    } catch (RuntimeException e) {
      return Failures.report(console, e, root.verbose);
    }
    console.onShutdown.accept(
        () -> {
          if (stopping.compareAndSet(false, true)) {
            service.close();
            synchronized (out) {
              out.println(console.clock.instant() + " stopped");
              out.flush();
            }
            stopped.countDown();
          }
        });
    synchronized (out) {
      out.println(
          console.clock.instant()
              + " tokenbroker serving "
              + service.broker().connections().size()
              + " connection(s)"
              + (service.socketPath() == null ? "" : " on socket " + service.socketPath())
              + (service.tcpPort() < 0 ? "" : " on TCP port " + service.tcpPort())
              + "; stop with Ctrl-C or SIGTERM");
      out.flush();
    }
    try {
      stopped.await();
      return ExitCode.OK;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      service.close();
      return ExitCode.OK;
    }
  }

  private ServeConfig config(Console console) {
    if (serveConfig == null && socket == null) {
      throw new UsageException(
          "nothing to serve on: pass --socket PATH, or --serve-config FILE (see serve/README.md)");
    }
    Path sock = socket == null ? null : console.workingDirectory.resolve(socket);
    if (serveConfig == null) {
      return ServeConfig.builder().socket(sock).build();
    }
    ServeConfig loaded = ServeConfig.load(console.workingDirectory.resolve(serveConfig));
    if (sock == null) {
      return loaded;
    }
    ServeConfig.Builder b = loaded.toBuilder();
    return b.socket(sock).build();
  }
}
