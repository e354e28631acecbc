package dev.tokenbroker.cli;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenEvent;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;

/**
 * {@code tokenbroker run}: a long-running keeper. Renews idle connections before their refresh
 * tokens die (keep-alive), logs every event, and stops cleanly on SIGTERM or Ctrl-C: the shutdown
 * hook closes the broker, which gives unsaved token sets a last save.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    header = "Keep every connection alive until stopped; log every event.",
    description =
        "Runs until stopped (SIGTERM, Ctrl-C): a keep-alive pass every interval renews connections whose refresh token would otherwise expire (Cafe24: 14 days unused; Kakao: about two months), and every event (renewed, failed, needs re-authorization) is logged, one line each. Safe to run on several machines sharing a store.")
final class RunCommand implements Callable<Integer> {
  @ParentCommand TokenbrokerCommand root;

  @Mixin KeepAliveOptions keepAlive;

  @Override
  public Integer call() {
    Console console = root.console;
    PrintWriter out = console.out;
    CountDownLatch stopped = new CountDownLatch(1);
    AtomicBoolean stopping = new AtomicBoolean();
    TokenBroker broker;
    try {
      broker = root.broker(event -> log(out, event), keepAlive.brokerBuilder());
    } catch (RuntimeException e) {
      return Failures.report(console, e, root.verbose);
    }
    console.onShutdown.accept(
        () -> {
          if (stopping.compareAndSet(false, true)) {
            synchronized (out) {
              out.println(console.clock.instant() + " stopping: closing the broker");
              out.flush();
            }
            broker.close();
            synchronized (out) {
              out.println(console.clock.instant() + " stopped");
              out.flush();
            }
            stopped.countDown();
          }
        });
    try {
      synchronized (out) {
        out.println(
            console.clock.instant()
                + " tokenbroker running: "
                + broker.connections().size()
                + " connection(s), keep-alive every "
                + Text.duration(keepAlive.interval)
                + "; stop with Ctrl-C or SIGTERM");
        StatusTable.of(broker, console.clock.instant()).printTable(out);
        out.flush();
      }
      // Catch up at once after downtime instead of waiting for the first scheduled pass.
      List<ConnectionId> renewed = broker.keepAlive();
      synchronized (out) {
        out.println(
            console.clock.instant()
                + " keep-alive pass: "
                + (renewed.isEmpty() ? "nothing due" : "renewed " + renewed));
        out.flush();
      }
      stopped.await();
      return ExitCode.OK;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      broker.close();
      return ExitCode.OK;
    } catch (RuntimeException e) {
      if (stopping.get()) {
        return ExitCode.OK; // closed under our feet by the shutdown hook
      }
      broker.close();
      return Failures.report(console, e, root.verbose);
    }
  }

  private static void log(PrintWriter out, TokenEvent event) {
    synchronized (out) {
      out.println(
          event.at() + " " + event.type() + " " + event.connection() + ": " + event.message());
      out.flush();
    }
  }
}
