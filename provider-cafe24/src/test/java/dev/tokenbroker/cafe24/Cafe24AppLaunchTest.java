package dev.tokenbroker.cafe24;

import static dev.tokenbroker.cafe24.Cafe24Fixture.CLIENT_ID;
import static dev.tokenbroker.cafe24.Cafe24Fixture.SECRET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.testkit.cafe24.Cafe24Emulator;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class Cafe24AppLaunchTest {
  private final Cafe24Fixture fixture = new Cafe24Fixture();
  private final Cafe24Emulator cafe24 = fixture.cafe24;
  private final Cafe24AppLaunch launches =
      Cafe24AppLaunch.builder(SECRET).clock(fixture.clock).build();

  @AfterEach
  void close() {
    fixture.close();
  }

  private Cafe24LaunchException refused(Cafe24AppLaunch verifier, String query) {
    Cafe24LaunchException e =
        catchThrowableOfType(() -> verifier.verify(query), Cafe24LaunchException.class);
    assertThat(e).as("refused").isNotNull();
    // Nothing from the query, the signature or the secret in the message.
    assertThat(e.getMessage()).doesNotContain(SECRET).doesNotContain("hmac=");
    return e;
  }

  // ---- the signature ----------------------------------------------------------------------

  @Test
  void hmacSha256_reproducesTheTestVectorInCafe24sSampleApp() {
    // cafe24-app/cafe24_app_discount_sample, AppService.validationCheckHmac (commented test data)
    String query =
        "is_multi_shop=T&lang=ko_KR&mall_id=jhbaek02&nation=KR&shop_no=1&timestamp=1622513360"
            + "&user_id=jhbaek02&user_name=jhbaek02&user_type=P"
            + "&hmac=8%2BhYywQW5fBMpfbTlA1puAMpM91N0FYtrpzHYrdodDM%3D";
    assertThat(Cafe24LaunchVerifier.hmacSha256().verify(query, "zoQxSUptApmiFLRl2ChaxB")).isTrue();
    assertThat(Cafe24LaunchVerifier.hmacSha256().verify(query, "zoQxSUptApmiFLRl2ChaxC")).isFalse();
  }

  @Test
  void hmacSha256_signsTheParametersSortedByName_notInTheOrderReceived() {
    String query = cafe24.launchQuery(CLIENT_ID, "mall-a");
    List<String> parts = new ArrayList<>(List.of(query.split("&")));
    java.util.Collections.reverse(parts); // hmac first, user_type … is_multi_shop
    assertThat(Cafe24LaunchVerifier.hmacSha256().verify(String.join("&", parts), SECRET)).isTrue();
  }

  @Test
  void hmacSha256_usesTheValuesAsReceived_notDecodedAndReEncoded() {
    String query = cafe24.launchQuery(CLIENT_ID, "mall-a");
    assertThat(query).contains("user_name=%EB%8C%80%ED%91%9C%20"); // a space as %20
    // The same name with the space as '+' decodes to the same text but was not what was signed.
    String plus = query.replace("%91%9C%20%EC", "%91%9C+%EC");
    assertThat(plus).isNotEqualTo(query);
    assertThat(Cafe24LaunchVerifier.hmacSha256().verify(plus, SECRET)).isFalse();
  }

  @Test
  void hmacSha256_twoSignatures_isRefused() {
    String query = cafe24.launchQuery(CLIENT_ID, "mall-a");
    String hmac = query.substring(query.indexOf("&hmac="));
    assertThat(Cafe24LaunchVerifier.hmacSha256().verify(query + hmac, SECRET)).isFalse();
  }

  // ---- launches ---------------------------------------------------------------------------

  @Test
  void verify_genuineLaunch_returnsTheMallAndWhoOpenedTheApp() {
    Cafe24AppLaunch.Verified launch = launches.verify(cafe24.launchQuery(CLIENT_ID, "mall-b"));

    assertThat(launch.mallId()).isEqualTo("mall-b");
    assertThat(ConnectionId.of("cafe24", launch.mallId())).hasToString("cafe24:mall-b");
    assertThat(launch.timestamp()).isEqualTo(Cafe24Fixture.START);
    assertThat(launch.shopNo()).isEqualTo("1");
    assertThat(launch.userId()).isEqualTo("mall-b");
    assertThat(launch.userName()).isEqualTo("대표 운영자");
    assertThat(launch.userType()).isEqualTo("P");
    assertThat(launch.parameters()).doesNotContainKey("hmac").containsEntry("lang", "ko_KR");
    assertThat(launch.toString()).doesNotContain("hmac");
  }

  @Test
  void verify_acceptsTheWholeUrlOrAQueryWithItsQuestionMark() {
    String url = cafe24.launchUrl("https://app.example.com/launch", CLIENT_ID, "mall-a");
    assertThat(launches.verify(url).mallId()).isEqualTo("mall-a");
    Cafe24AppLaunch other = Cafe24AppLaunch.builder(SECRET).clock(fixture.clock).build();
    assertThat(other.verify(url.substring(url.indexOf('?'))).mallId()).isEqualTo("mall-a");
  }

  @ParameterizedTest
  @ValueSource(strings = {"mall_id", "timestamp", "shop_no", "user_id", "user_type"})
  void verify_tamperedParameter_isRefusedAsBadSignature(String parameter) {
    String query = Cafe24Emulator.tamper(cafe24.launchQuery(CLIENT_ID, "mall-a"), parameter, "2");
    Cafe24LaunchException e = refused(launches, query);
    assertThat(e.reason()).isEqualTo(Cafe24LaunchException.Reason.BAD_SIGNATURE);
    assertThat(e.field()).isEqualTo("hmac");
  }

  @Test
  void verify_addedParameter_isRefusedAsBadSignature() {
    String query = Cafe24Emulator.tamper(cafe24.launchQuery(CLIENT_ID, "mall-a"), "is_admin", "T");
    assertThat(refused(launches, query).reason())
        .isEqualTo(Cafe24LaunchException.Reason.BAD_SIGNATURE);
  }

  @Test
  void verify_launchOfAnotherApp_isRefusedAsBadSignature() {
    cafe24.registerApp("OtherApp", "another-secret", "https://other.example.com/cb");
    assertThat(refused(launches, cafe24.launchQuery("OtherApp", "mall-a")).reason())
        .isEqualTo(Cafe24LaunchException.Reason.BAD_SIGNATURE);
  }

  @ParameterizedTest
  @ValueSource(strings = {"mall_id", "timestamp", "hmac"})
  void verify_missingRequiredField_isRefusedNamingIt(String parameter) {
    String query =
        Cafe24Emulator.withoutParameter(cafe24.launchQuery(CLIENT_ID, "mall-a"), parameter);
    Cafe24LaunchException e = refused(launches, query);
    assertThat(e.reason()).isEqualTo(Cafe24LaunchException.Reason.MISSING_FIELD);
    assertThat(e.field()).isEqualTo(parameter);
  }

  @Test
  void verify_parameterGivenTwice_isRefusedAsMalformed() {
    String query = cafe24.launchQuery(CLIENT_ID, "mall-a") + "&mall_id=mall-b";
    assertThat(refused(launches, query).reason()).isEqualTo(Cafe24LaunchException.Reason.MALFORMED);
  }

  @Test
  void verify_signedButUnusableMallId_isRefusedAsMalformed() {
    // A correctly signed launch whose mall id is not one: re-sign the tampered query.
    String tampered =
        Cafe24Emulator.withoutParameter(
            Cafe24Emulator.tamper(cafe24.launchQuery(CLIENT_ID, "mall-a"), "mall_id", "Mall.A"),
            "hmac");
    String sorted = String.join("&", new java.util.TreeSet<>(List.of(tampered.split("&"))));
    String query =
        tampered
            + "&hmac="
            + java.net.URLEncoder.encode(
                Cafe24Emulator.launchSignature(sorted, SECRET),
                java.nio.charset.StandardCharsets.UTF_8);
    Cafe24LaunchException e = refused(launches, query);
    assertThat(e.reason()).isEqualTo(Cafe24LaunchException.Reason.MALFORMED);
    assertThat(e.field()).isEqualTo("mall_id");
  }

  /** {@code unsigned} (no hmac) signed with the app's secret, sorted as Cafe24 signs. */
  private static String signed(String unsigned) {
    String sorted = String.join("&", new java.util.TreeSet<>(List.of(unsigned.split("&"))));
    return unsigned
        + "&hmac="
        + java.net.URLEncoder.encode(
            Cafe24Emulator.launchSignature(sorted, SECRET),
            java.nio.charset.StandardCharsets.UTF_8);
  }

  @Test
  void verify_bareQueryWithAQuestionMarkInAValue_isTakenWhole() {
    String unsigned =
        Cafe24Emulator.withoutParameter(cafe24.launchQuery(CLIENT_ID, "mall-a"), "hmac")
            + "&return=/admin?tab=1";
    Cafe24AppLaunch.Verified launch = launches.verify(signed(unsigned));
    assertThat(launch.mallId()).isEqualTo("mall-a");
    assertThat(launch.parameters()).containsEntry("return", "/admin?tab=1");
  }

  // ---- freshness --------------------------------------------------------------------------

  @Test
  void verify_exactlyAtTheWindow_isAccepted_oneSecondPast_isExpired() {
    Instant signed = fixture.clock.instant();
    String atEdge = cafe24.launchQuery(CLIENT_ID, "mall-a", signed);
    fixture.clock.advance(Cafe24AppLaunch.DEFAULT_MAX_AGE);
    assertThat(launches.verify(atEdge).mallId()).isEqualTo("mall-a");

    String pastEdge = cafe24.launchQuery(CLIENT_ID, "mall-b", signed);
    fixture.clock.advance(Duration.ofSeconds(1));
    Cafe24LaunchException e = refused(launches, pastEdge);
    assertThat(e.reason()).isEqualTo(Cafe24LaunchException.Reason.EXPIRED);
    assertThat(e.field()).isEqualTo("timestamp");
  }

  @Test
  void verify_timestampFromTheFuture_beyondTheSkew_isExpired_withinIt_isAccepted() {
    Instant now = fixture.clock.instant();
    assertThat(
            launches
                .verify(
                    cafe24.launchQuery(
                        CLIENT_ID, "mall-a", now.plus(Cafe24AppLaunch.DEFAULT_CLOCK_SKEW)))
                .mallId())
        .isEqualTo("mall-a");
    String ahead =
        cafe24.launchQuery(
            CLIENT_ID, "mall-b", now.plus(Cafe24AppLaunch.DEFAULT_CLOCK_SKEW).plusSeconds(1));
    assertThat(refused(launches, ahead).reason()).isEqualTo(Cafe24LaunchException.Reason.EXPIRED);
  }

  @Test
  void verify_maxAgeFromSettings_appliesTheConfiguredWindow() {
    Map<String, Object> settings = fixture.settings("mall-a");
    settings.put("launch-max-age", "30s");
    Cafe24AppLaunch verifier =
        Cafe24AppLaunch.from(
            new Settings(ConnectionId.of("cafe24", "mall-a"), settings),
            fixture.clock,
            LaunchReplayGuard.inMemory(fixture.clock));
    String query = cafe24.launchQuery(CLIENT_ID, "mall-a");
    fixture.clock.advance(Duration.ofSeconds(31));
    assertThat(refused(verifier, query).reason()).isEqualTo(Cafe24LaunchException.Reason.EXPIRED);
  }

  @Test
  void from_settingsWithoutClientSecret_failsNamingIt() {
    Map<String, Object> settings = fixture.settings("mall-a");
    settings.remove("client-secret");
    ConfigurationException e =
        catchThrowableOfType(
            () ->
                Cafe24AppLaunch.from(
                    new Settings(ConnectionId.of("cafe24", "mall-a"), settings),
                    fixture.clock,
                    LaunchReplayGuard.inMemory(fixture.clock)),
            ConfigurationException.class);
    assertThat(e.setting()).isEqualTo("client-secret");
  }

  // ---- replay -----------------------------------------------------------------------------

  @Test
  void verify_sameLaunchTwice_isRefusedAsReplayed() {
    String query = cafe24.launchQuery(CLIENT_ID, "mall-a");
    assertThat(launches.verify(query).mallId()).isEqualTo("mall-a");
    assertThat(refused(launches, query).reason()).isEqualTo(Cafe24LaunchException.Reason.REPLAYED);
  }

  @Test
  void verify_replayGuard_isAskedOnlyForGenuineFreshLaunches_untilTheWindowEnds() {
    List<String> keys = new ArrayList<>();
    List<Instant> untils = new ArrayList<>();
    Cafe24AppLaunch verifier =
        Cafe24AppLaunch.builder(SECRET)
            .clock(fixture.clock)
            .replayGuard(
                (key, until) -> {
                  keys.add(key);
                  untils.add(until);
                  return true;
                })
            .build();
    String query = cafe24.launchQuery(CLIENT_ID, "mall-a");
    refused(verifier, Cafe24Emulator.tamper(query, "mall_id", "mall-b"));
    assertThat(keys).isEmpty(); // a forged launch uses up nothing

    verifier.verify(query);
    assertThat(keys).hasSize(1);
    assertThat(keys.get(0)).startsWith("cafe24-launch:mall-a:").doesNotContain("%3D");
    String hmac = query.substring(query.indexOf("hmac=") + 5);
    assertThat(keys.get(0)).doesNotContain(hmac.substring(0, 12));
    assertThat(untils.get(0)).isEqualTo(Cafe24Fixture.START.plus(Cafe24AppLaunch.DEFAULT_MAX_AGE));
  }

  @Test
  void inMemoryGuard_forgetsAKeyAfterItsUntil() {
    LaunchReplayGuard guard = LaunchReplayGuard.inMemory(fixture.clock);
    Instant until = fixture.clock.instant().plusSeconds(10);
    assertThat(guard.firstUse("k", until)).isTrue();
    assertThat(guard.firstUse("k", until)).isFalse();
    fixture.clock.advance(Duration.ofSeconds(10));
    assertThat(guard.firstUse("k", until.plusSeconds(10))).isTrue();
  }

  @Test
  void customVerifier_replacesTheSignatureCheck() {
    Cafe24AppLaunch lenient =
        Cafe24AppLaunch.builder(SECRET)
            .clock(fixture.clock)
            .verifier((query, secret) -> secret.equals(SECRET))
            .build();
    String forged =
        Cafe24Emulator.tamper(cafe24.launchQuery(CLIENT_ID, "mall-a"), "mall_id", "mall-b");
    assertThat(lenient.verify(forged).mallId()).isEqualTo("mall-b");
  }

  @Test
  void builder_optionSetTwice_fails_andToStringHidesTheSecret() {
    Cafe24AppLaunch.Builder b = Cafe24AppLaunch.builder(SECRET).maxAge(Duration.ofMinutes(2));
    assertThat(
            catchThrowableOfType(
                () -> b.maxAge(Duration.ofMinutes(3)), IllegalStateException.class))
        .isNotNull();
    assertThat(b.build().toString()).doesNotContain(SECRET);
  }
}
