package dev.tokenbroker.fuzz;

import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;

/**
 * Mutated inputs for the fuzz properties: a seed (a platform's published answer, a configuration
 * file, a stored record) with one to four random edits — cut off, bytes inserted or removed, a
 * range duplicated, a JSON string value swapped for another JSON value (a number beyond long, a
 * boolean, a string with control characters, unpaired surrogates, bidi overrides or a few hundred
 * thousand characters, an array nested thousands deep). jqwik prints the mutated text and the seed
 * of a failing run; {@code @Property(seed = "…")} replays it.
 */
public final class Mutations {
  /** Pieces that break parsers: structure, escapes, odd characters, extreme numbers. */
  static final List<String> FRAGMENTS =
      List.of(
          "\"",
          "\\",
          "\\\"",
          "{",
          "}",
          "[",
          "]",
          ":",
          ",",
          "\u0000",
          "\r\n",
          "\n",
          "\t",
          "\ud800",
          "\udc00",
          "\u202e",
          "\u200b",
          "\ufeff",
          "\ufffd",
          "é",
          "한글",
          "😀",
          "\\u0000",
          "\\ud800",
          "\\r\\n",
          "1e999999",
          "-0",
          "18446744073709555216",
          "9223372036854775808",
          "-9223372036854775809",
          "null",
          "true",
          "${",
          "${X}",
          "$$",
          "#",
          "'",
          "- ",
          "? ",
          "&",
          "*a",
          "!!binary",
          "%",
          "%ZZ");

  private Mutations() {}

  /** {@code seeds} with random edits. */
  public static Arbitrary<String> of(List<String> seeds) {
    return Arbitraries.randoms().map(r -> mutate(seeds.get(r.nextInt(seeds.size())), r));
  }

  /** Every seed as it is, then mutated: the platforms' own shapes are always among the cases. */
  public static Arbitrary<String> seedsAndMutations(List<String> seeds) {
    return Arbitraries.oneOf(Arbitraries.of(seeds), of(seeds), of(seeds), of(seeds));
  }

  public static String mutate(String seed, Random r) {
    String s = seed;
    int edits = 1 + r.nextInt(4);
    for (int i = 0; i < edits; i++) {
      s = edit(s, r);
    }
    return s;
  }

  private static String edit(String s, Random r) {
    int n = s.length();
    int at = n == 0 ? 0 : r.nextInt(n + 1);
    switch (r.nextInt(8)) {
      case 0: // cut off
        return s.substring(0, at);
      case 1: // insert a fragment
        return s.substring(0, at) + FRAGMENTS.get(r.nextInt(FRAGMENTS.size())) + s.substring(at);
      case 2: // delete a range
        {
          int end = Math.min(n, at + 1 + r.nextInt(8));
          return s.substring(0, at) + s.substring(end);
        }
      case 3: // duplicate a range
        {
          int end = Math.min(n, at + 1 + r.nextInt(32));
          return s.substring(0, end) + s.substring(at, end) + s.substring(end);
        }
      case 4: // replace one character with any character
        if (n == 0) {
          return s;
        }
        {
          int i = Math.min(at, n - 1);
          return s.substring(0, i) + (char) r.nextInt(0x10000) + s.substring(i + 1);
        }
      case 5: // a JSON string value becomes another JSON value
      case 6:
        return swapStringValue(s, r);
      default: // random printable and non-printable characters
        {
          StringBuilder b = new StringBuilder();
          for (int k = r.nextInt(6); k >= 0; k--) {
            b.append((char) (r.nextBoolean() ? 0x20 + r.nextInt(0x5F) : r.nextInt(0x3000)));
          }
          return s.substring(0, at) + b + s.substring(at);
        }
    }
  }

  /** Replaces the value of one {@code "name": "value"} member with a random JSON value. */
  private static String swapStringValue(String s, Random r) {
    int quotes = 0;
    for (int i = s.indexOf(":\""); i >= 0; i = s.indexOf(":\"", i + 1)) {
      quotes++;
    }
    if (quotes == 0) {
      return s;
    }
    int pick = r.nextInt(quotes);
    int start = -1;
    for (int i = s.indexOf(":\""), k = 0; i >= 0; i = s.indexOf(":\"", i + 1), k++) {
      if (k == pick) {
        start = i + 1;
        break;
      }
    }
    int end = s.indexOf('"', start + 1);
    if (end < 0) {
      return s;
    }
    return s.substring(0, start) + jsonValue(r) + s.substring(end + 1);
  }

  /** A random JSON value, often an extreme one. */
  public static String jsonValue(Random r) {
    switch (r.nextInt(12)) {
      case 0:
        return "18446744073709555216";
      case 1:
        return Long.toString(r.nextLong());
      case 2:
        return r.nextBoolean() ? "true" : "false";
      case 3:
        return "null";
      case 4:
        return "\""
            + "x".repeat(1 + (r.nextInt(8) == 0 ? r.nextInt(100_000) : r.nextInt(3000)))
            + "\"";
      case 5:
        return "[".repeat(1 + r.nextInt(1500)) + "]".repeat(r.nextInt(1500));
      case 6:
        return "{\"a\":" + "[".repeat(r.nextInt(50)) + "1" + "]".repeat(r.nextInt(50)) + "}";
      case 7:
        return "\"\\u0000\\r\\n\\ud800\\u202e\"";
      case 8:
        return "\"\"";
      case 9:
        return "\"   \"";
      case 10:
        return "1.5e308";
      default:
        return "\"" + (char) (0x80 + r.nextInt(0xFF00)) + "tok\"";
    }
  }
}
