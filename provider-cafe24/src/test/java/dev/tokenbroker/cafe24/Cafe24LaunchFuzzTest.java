package dev.tokenbroker.cafe24;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.cafe24.Cafe24Emulator;
import java.time.Instant;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzzes app launches: a genuine signed query, mutated character by character, or arbitrary text.
 * Each gives a verified launch or a {@link Cafe24LaunchException} — never another exception — and a
 * mutated launch is never accepted for another mall; no refusal repeats the secret.
 */
class Cafe24LaunchFuzzTest {
  private static final String SECRET = "fuzz-Client-Secret-0123";
  private static final Instant START = Instant.parse("2026-03-01T03:00:00Z");
  private static final String GENUINE;

  static {
    try (Cafe24Emulator cafe24 =
        new Cafe24Emulator(FakeClock.at(START))
            .registerApp("fuzz", SECRET, "https://app.example.com/cb")
            .addMall("mall-a")) {
      GENUINE = cafe24.launchQuery("fuzz", "mall-a");
    }
  }

  @Provide
  Arbitrary<String> mutated() {
    Arbitrary<Integer> at = Arbitraries.integers().between(0, GENUINE.length() - 1);
    Arbitrary<Character> c =
        Arbitraries.oneOf(
            Arbitraries.chars().ascii(),
            Arbitraries.of('%', '&', '=', '+', '?', '#', '\u00e9', '\ud55c'));
    return at.flatMap(
        i ->
            c.flatMap(
                ch ->
                    Arbitraries.of(
                        GENUINE.substring(0, i) + ch + GENUINE.substring(i + 1),
                        GENUINE.substring(0, i) + GENUINE.substring(i + 1),
                        GENUINE.substring(0, i) + ch + GENUINE.substring(i))));
  }

  @Property(tries = 300)
  void mutatedLaunch_isVerifiedForItsMallOrRefusedWithATypedError(@ForAll("mutated") String query) {
    Cafe24AppLaunch launches = Cafe24AppLaunch.builder(SECRET).clock(FakeClock.at(START)).build();
    try {
      // A mutation the signature does not cover (a '&' doubled, an empty pair) may pass, but
      // it must still be mall-a's launch.
      assertThat(launches.verify(query).mallId()).isEqualTo("mall-a");
    } catch (Cafe24LaunchException e) {
      assertThat(e.getMessage()).doesNotContain(SECRET);
    }
  }

  @Property(tries = 300)
  void arbitraryText_isRefusedWithATypedError(@ForAll String query) {
    Cafe24AppLaunch launches = Cafe24AppLaunch.builder(SECRET).clock(FakeClock.at(START)).build();
    try {
      launches.verify(query);
      throw new AssertionError("an unsigned query was accepted");
    } catch (Cafe24LaunchException e) {
      assertThat(e.reason()).isNotNull();
    }
  }
}
