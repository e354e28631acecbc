package dev.tokenbroker.benchmarks.scenarios;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/** Shared bits of the scenario reports: arguments, Markdown tables, JSON, medians, clean-up. */
final class Report {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private Report() {}

  /** {@code [--quick] OUT.md}: the output path and whether to run the tiny version. */
  static final class Args {
    final Path out;
    final boolean quick;

    private Args(Path out, boolean quick) {
      this.out = out;
      this.quick = quick;
    }

    static Args parse(String[] args, String usage) {
      boolean quick = false;
      Path out = null;
      for (String a : args) {
        if (a.equals("--quick")) {
          quick = true;
        } else if (a.startsWith("-") || out != null) {
          throw new IllegalArgumentException("usage: " + usage);
        } else {
          out = Path.of(a);
        }
      }
      if (out == null) {
        throw new IllegalArgumentException("usage: " + usage);
      }
      return new Args(out, quick);
    }

    /** {@code OUT.json} beside {@code OUT.md}. */
    Path json() {
      String name = out.getFileName().toString();
      int dot = name.lastIndexOf('.');
      return out.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + ".json");
    }
  }

  /** A Markdown table: a header row, then rows; numbers right-aligned where the header says. */
  static String table(List<String> header, List<Boolean> rightAligned, List<List<String>> rows) {
    StringBuilder sb = new StringBuilder();
    sb.append("| ").append(String.join(" | ", header)).append(" |\n|");
    for (boolean right : rightAligned) {
      sb.append(right ? "--:|" : "---|");
    }
    sb.append('\n');
    for (List<String> row : rows) {
      sb.append("| ").append(String.join(" | ", row)).append(" |\n");
    }
    return sb.toString();
  }

  static void write(Args args, String markdown, Object json) throws IOException {
    Path parent = args.out.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(args.out, markdown);
    JSON.writeValue(args.json().toFile(), json);
  }

  static long median(List<Long> values) {
    List<Long> sorted = new ArrayList<>(values);
    sorted.sort(null);
    int n = sorted.size();
    return n % 2 == 1
        ? sorted.get(n / 2)
        : Math.round((sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2.0);
  }

  static String fmt(double value, int decimals) {
    return String.format(Locale.ROOT, "%." + decimals + "f", value);
  }

  /** {@code 12,345}. */
  static String count(long value) {
    return String.format(Locale.ROOT, "%,d", value);
  }

  /** Deletes a case's work directory; a failure only leaves a temp file behind. */
  static void deleteTree(@Nullable Path dir) {
    if (dir == null) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // temp files: nothing useful to do
    }
  }

  /**
   * What a caller error of a contender means, as observed in these runs (the emulator's counters
   * and the exception types show it); unknown pairs are listed without an explanation.
   */
  private static final Map<String, String> MEANING =
      Map.of(
          Contender.Kind.SPRING + "/ClientAuthorizationException",
          "the token endpoint answered `invalid_grant`: a concurrent refresh had spent the refresh"
              + " token",
          Contender.Kind.SPRING + "/no token",
          "`authorize` returned null: the failure handler had removed the authorized client after"
              + " an `invalid_grant`",
          Contender.Kind.GOOGLE + "/GoogleAuthException",
          "`invalid_grant`: it refreshes with the refresh token it was built with, which rotation"
              + " had spent",
          Contender.Kind.NAIVE + "/IOException",
          "the refresh answered `invalid_grant`: another thread had spent the refresh token",
          Contender.Kind.NAIVE + "/NullPointerException",
          "read `tokens.json` while another thread had just truncated it to write new tokens",
          Contender.Kind.NAIVE + "/MismatchedInputException",
          "read `tokens.json` while another thread was writing it");

  /** A Markdown list: per contender, its caller errors by kind with what they mean. */
  static String errorNotes(Map<Contender.Kind, Map<String, Long>> totals) {
    StringBuilder sb = new StringBuilder();
    totals.forEach(
        (kind, kinds) -> {
          if (kinds.isEmpty()) {
            return;
          }
          sb.append("- ").append(kind.label).append(": ");
          List<String> parts = new ArrayList<>();
          kinds.forEach(
              (error, n) -> {
                String meaning = MEANING.get(kind + "/" + error);
                parts.add(
                    "`" + error + "` × " + count(n) + (meaning == null ? "" : " — " + meaning));
              });
          sb.append(String.join("; ", parts)).append('\n');
        });
    return sb.length() == 0 ? "" : "Caller errors, summed over all runs:\n\n" + sb;
  }

  /** The exception's class and, for OAuth errors, nothing else: messages may echo a body. */
  static String kind(Throwable t) {
    return t.getClass().getSimpleName();
  }
}
