package dev.tokenbroker.naver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.RecordedRequest;
import dev.tokenbroker.testkit.naver.NaverEmulator;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Agency applications (API대행사) and the template {@code naver:seller:{account}}: one application, a
 * SELLER token per seller, {@code /partner} paths.
 */
class NaverAgencyTest {
  private static final String AGENCY = "agencyClient";
  private static final String VENDOR = "vendorClient";
  private static final String SECRET = "$2a$04$abcdefghijklmnopqrstuv";

  private final FakeClock clock = FakeClock.create();
  private final OkHttpClient http = new OkHttpClient();
  private NaverEmulator naver;

  @BeforeEach
  void start() {
    naver =
        new NaverEmulator(clock)
            .registerAgencyApplication(AGENCY, SECRET)
            .linkSeller(AGENCY, "seller-1")
            .linkSeller(AGENCY, "seller-2")
            .registerApplication(VENDOR, SECRET)
            .linkSeller(VENDOR, "seller-1")
            .start();
  }

  @AfterEach
  void stop() {
    naver.close();
  }

  private Map<String, Object> settings(String clientId, Object... extra) {
    Map<String, Object> m = new HashMap<>();
    m.put("client-id", clientId);
    m.put("client-secret", SECRET);
    m.put("base-url", naver.baseUrl());
    for (int i = 0; i < extra.length; i += 2) {
      m.put((String) extra[i], extra[i + 1]);
    }
    return m;
  }

  private TokenProvider provider(Map<String, Object> settings, @Nullable String subject) {
    // The connection's name is the core's business; a fixed one keeps odd subjects testable.
    ConnectionId id = ConnectionId.of("naver", subject == null ? "self" : "seller:template");
    return new NaverProviderFactory()
        .create(
            new Settings(id, settings),
            new ProviderContext(id, clock, http, new SecureRandom(), subject));
  }

  private ConfigurationException invalid(Map<String, Object> settings, @Nullable String subject) {
    ConfigurationException e =
        catchThrowableOfType(() -> provider(settings, subject), ConfigurationException.class);
    assertThat(e).as("configuration refused").isNotNull();
    return e;
  }

  // ---- an agency template: naver:seller:{account} -----------------------------------------

  @Test
  void agencyTemplate_asksAtPartner_forASellerTokenOfTheSubject() {
    TokenSet tokens = provider(settings(AGENCY, "agency", true), "seller-2").obtain(null);

    RecordedRequest sent = naver.lastRequest(NaverEmulator.PARTNER_TOKEN_PATH);
    assertThat(sent).as("sent to /partner").isNotNull();
    assertThat(naver.requests(NaverEmulator.TOKEN_PATH)).isEmpty();
    Map<String, String> form = EmulatorServer.form(sent);
    assertThat(form)
        .containsOnlyKeys(
            "client_id", "timestamp", "grant_type", "client_secret_sign", "type", "account_id");
    assertThat(form).containsEntry("type", "SELLER").containsEntry("account_id", "seller-2");
    assertThat(form).containsEntry("client_id", AGENCY);
    assertThat(sent.getRequestUrl().query()).isNull();

    assertThat(naver.currentToken(AGENCY, "SELLER", "seller-2")).isEqualTo(tokens.accessToken());
    assertThat(tokens.extras())
        .containsEntry("type", "SELLER")
        .containsEntry("account_id", "seller-2")
        .containsEntry(NaverProviderFactory.API_PATH_PREFIX_EXTRA, "/partner");
  }

  @Test
  void agencyToken_worksOnPartnerResources_notOnExternalOnes() throws IOException {
    TokenSet tokens = provider(settings(AGENCY, "agency", true), "seller-1").obtain(null);
    String prefix = tokens.extras().get(NaverProviderFactory.API_PATH_PREFIX_EXTRA);

    try (Response r = get(prefix + "/v1/seller/account", tokens)) {
      assertThat(r.code()).isEqualTo(200);
      assertThat(r.body().string()).contains("seller-1");
    }
    try (Response r = get(NaverEmulator.ACCOUNT_PATH, tokens)) {
      assertThat(r.code()).isEqualTo(403);
    }
  }

  @Test
  void twoSellersOfOneAgency_getTwoTokens() {
    Map<String, Object> template = settings(AGENCY, "agency", true);
    TokenSet one = provider(template, "seller-1").obtain(null);
    TokenSet two = provider(template, "seller-2").obtain(null);
    assertThat(one.accessToken()).isNotEqualTo(two.accessToken());
    assertThat(naver.issuedTokens()).isEqualTo(2);
  }

  @Test
  void agencyWithExplicitPrefix_usesIt_andTheEmulatorCanBeLenient() {
    naver.enforceAgencyPaths(false);
    provider(settings(AGENCY, "agency", true, "api-path-prefix", "/external"), "seller-1")
        .obtain(null);
    assertThat(naver.requests(NaverEmulator.TOKEN_PATH)).hasSize(1);
    assertThat(naver.requests(NaverEmulator.PARTNER_TOKEN_PATH)).isEmpty();
  }

  @Test
  void agencyAtExternal_isRefusedByAStrictPlatform() {
    TokenEndpointException e =
        catchThrowableOfType(
            () ->
                provider(
                        settings(AGENCY, "agency", true, "api-path-prefix", "/external"),
                        "seller-1")
                    .obtain(null),
            TokenEndpointException.class);
    assertThat(e.httpStatus()).isEqualTo(403);
    assertThat(e.getMessage()).doesNotContain(SECRET);
  }

  // ---- a solution vendor (not an agency) --------------------------------------------------

  @Test
  void vendorTemplate_sellerTypeByDefault_atExternal() {
    provider(settings(VENDOR), "seller-1").obtain(null);
    Map<String, String> form = EmulatorServer.form(naver.lastRequest(NaverEmulator.TOKEN_PATH));
    assertThat(form).containsEntry("type", "SELLER").containsEntry("account_id", "seller-1");
    assertThat(naver.requests(NaverEmulator.PARTNER_TOKEN_PATH)).isEmpty();
  }

  @Test
  void plainConnection_staysSelf_atExternal_withTheExternalPrefixRecorded() {
    TokenSet tokens = provider(settings(VENDOR), null).obtain(null);
    Map<String, String> form = EmulatorServer.form(naver.lastRequest(NaverEmulator.TOKEN_PATH));
    assertThat(form).containsEntry("type", "SELF").doesNotContainKey("account_id");
    assertThat(tokens.extras())
        .containsEntry(NaverProviderFactory.API_PATH_PREFIX_EXTRA, "/external");
  }

  @Test
  void agencyApplication_configuredWithoutAgency_isRefusedByAStrictPlatform() {
    TokenEndpointException e =
        catchThrowableOfType(
            () -> provider(settings(AGENCY), "seller-1").obtain(null),
            TokenEndpointException.class);
    assertThat(e.httpStatus()).isEqualTo(403);
  }

  @Test
  void prefixWithTrailingSlash_isNormalized() {
    provider(settings(AGENCY, "agency", true, "api-path-prefix", "/partner/"), "seller-1")
        .obtain(null);
    assertThat(naver.requests(NaverEmulator.PARTNER_TOKEN_PATH)).hasSize(1);
  }

  // ---- configuration -----------------------------------------------------------------------

  @Test
  void subjectEqualToAccountId_isAccepted_differentOne_failsNamingAccountId() {
    provider(settings(VENDOR, "account-id", "seller-1"), "seller-1").obtain(null);
    ConfigurationException e = invalid(settings(VENDOR, "account-id", "seller-1"), "seller-2");
    assertThat(e.setting()).isEqualTo("account-id");
    assertThat(e.getMessage()).contains("naver:seller:{account}");
  }

  @Test
  void templateWithTypeSelf_failsNamingType() {
    assertThat(invalid(settings(VENDOR, "type", "SELF"), "seller-1").setting()).isEqualTo("type");
  }

  @Test
  void agencyWithTypeSelf_failsNamingType() {
    ConfigurationException e =
        invalid(settings(AGENCY, "agency", true, "type", "SELF", "account-id", "x"), null);
    assertThat(e.setting()).isEqualTo("type");
  }

  @Test
  void agencyWithoutSubjectOrAccountId_failsNamingAccountId() {
    assertThat(invalid(settings(AGENCY, "agency", true), null).setting()).isEqualTo("account-id");
  }

  @Test
  void subjectWithWhiteSpace_failsWithoutEchoingIt() {
    ConfigurationException e = invalid(settings(AGENCY, "agency", true), "seller one");
    assertThat(e.setting()).isEqualTo("account-id");
    String problem = e.getMessage().substring(e.getMessage().indexOf("setting 'account-id'"));
    assertThat(problem).doesNotContain("seller one");
  }

  @Test
  void malformedPrefix_failsNamingIt() {
    for (String prefix : new String[] {"partner", "/part ner", "/a?b", "//x"}) {
      assertThat(
              invalid(settings(AGENCY, "agency", true, "api-path-prefix", prefix), "s").setting())
          .as(prefix)
          .isEqualTo("api-path-prefix");
    }
  }

  @Test
  void agencyNotABoolean_failsNamingIt() {
    assertThat(invalid(settings(AGENCY, "agency", "perhaps"), "s").setting()).isEqualTo("agency");
  }

  private Response get(String path, TokenSet tokens) throws IOException {
    return http.newCall(
            new Request.Builder()
                .url(naver.url(path))
                .header("Authorization", "Bearer " + tokens.accessToken())
                .build())
        .execute();
  }

  @Test
  void agencyTemplate_inTwoBrokersOnOneStore_aSellerConnectedOnOneIsServedByTheOther() {
    dev.tokenbroker.store.InMemoryTokenStore store =
        new dev.tokenbroker.store.InMemoryTokenStore(clock);
    Map<String, Object> app = settings(AGENCY, "agency", true);
    app.put("provider", "naver");
    List<dev.tokenbroker.TokenBroker> brokers = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        brokers.add(
            dev.tokenbroker.TokenBroker.builder()
                .clock(clock)
                .store(store)
                .httpClient(http)
                .template("agency", "naver:seller:{account}", app)
                .withoutKeepAlive()
                .withoutDiscovery()
                .build());
      }
      ConnectionId seller = brokers.get(0).connect("agency", "seller-2");

      assertThat(seller).isEqualTo(ConnectionId.of("naver", "seller:seller-2"));
      assertThat(naver.issuedTokens()).as("the first token, obtained at connect").isEqualTo(1);
      assertThat(brokers.get(1).accessToken(seller))
          .isEqualTo(naver.currentToken(AGENCY, "SELLER", "seller-2"));
      assertThat(naver.issuedTokens())
          .as("the other instance reads it from the store")
          .isEqualTo(1);
      assertThat(EmulatorServer.form(naver.lastRequest(NaverEmulator.PARTNER_TOKEN_PATH)))
          .containsEntry("account_id", "seller-2");
    } finally {
      brokers.forEach(dev.tokenbroker.TokenBroker::close);
    }
  }
}
