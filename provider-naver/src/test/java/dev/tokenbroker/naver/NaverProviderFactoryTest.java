package dev.tokenbroker.naver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenProviderFactory;
import dev.tokenbroker.testkit.FakeClock;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.ServiceLoader;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NaverProviderFactoryTest {
  private static final ConnectionId ID = ConnectionId.of("naver", "self");
  private static final String SECRET = "$2a$04$abcdefghijklmnopqrstuv";

  private final FakeClock clock = FakeClock.create();

  private static Map<String, Object> settings(Object... keyValues) {
    Map<String, Object> m = new HashMap<>();
    m.put("provider", "naver");
    m.put("client-id", "myClient");
    m.put("client-secret", SECRET);
    for (int i = 0; i < keyValues.length; i += 2) {
      if (keyValues[i + 1] == null) {
        m.remove((String) keyValues[i]);
      } else {
        m.put((String) keyValues[i], keyValues[i + 1]);
      }
    }
    return m;
  }

  private TokenProvider create(Map<String, Object> values) {
    return new NaverProviderFactory()
        .create(
            new Settings(ID, values),
            new ProviderContext(ID, clock, new OkHttpClient(), new SecureRandom()));
  }

  private ConfigurationException failure(Map<String, Object> values) {
    Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> create(values));
    assertThat(t).isInstanceOf(ConfigurationException.class);
    return (ConfigurationException) t;
  }

  @Test
  void serviceLoader_findsTheFactoryByName() {
    boolean found = false;
    for (TokenProviderFactory f : ServiceLoader.load(TokenProviderFactory.class)) {
      found |= f.name().equals("naver") && f instanceof NaverProviderFactory;
    }
    assertThat(found).isTrue();
  }

  @Test
  void minimalSettings_giveASelfClientCredentialsProvider() {
    TokenProvider p = create(settings());

    assertThat(p.name()).isEqualTo("naver");
    assertThat(p.grantType()).isEqualTo(GrantType.CLIENT_CREDENTIALS);
    assertThat(p.renewalPolicy().renewBefore()).isEqualTo(Duration.ofMinutes(25));
    assertThat(p.renewalPolicy().expirySkew()).isEqualTo(Duration.ofSeconds(30));
    assertThat(p.renewalPolicy().keepAliveBefore()).isNull();
    assertThat(p.usesPkce()).isFalse();
    assertThat(p.toString())
        .contains(
            "naver:self", "type=SELF", "https://api.commerce.naver.com/external/v1/oauth2/token")
        .doesNotContain(SECRET)
        .doesNotContain("abcdefghijklmnopqrstuv");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "$2b$04$abcdefghijklmnopqrstuv",
        "$2y$04$abcdefghijklmnopqrstuv",
        "$2a$04$abcdefghijklmnopqrstu",
        "$2a$04$abcdefghijklmnopqrst%v",
        "$2a$04$abcdefghijklmnopqrstuvEXTRA",
        "$2a$99$abcdefghijklmnopqrstuv",
        "my-client-secret-from-the-console"
      })
  void malformedSecret_failsAtBuildTime_namingConnectionAndSetting_withoutTheSecret(String secret) {
    ConfigurationException e = failure(settings("client-secret", secret));

    assertThat(e.setting()).isEqualTo("client-secret");
    assertThat(e.connection()).isEqualTo(ID);
    assertThat(e.getMessage())
        .startsWith("connection naver:self: setting 'client-secret': ")
        .contains("29-character bcrypt salt", "$2a$")
        .doesNotContain(secret)
        .doesNotContain(secret.substring(7));
    assertThat(e.getCause()).isNull();
  }

  @Test
  void secretWithSurroundingWhitespace_isTrimmed() {
    assertThat(create(settings("client-secret", "  " + SECRET + "\n"))).isNotNull();
  }

  @Test
  void missingClientIdOrSecret_fails() {
    assertThat(failure(settings("client-id", null)).setting()).isEqualTo("client-id");
    assertThat(failure(settings("client-secret", null)).setting()).isEqualTo("client-secret");
    assertThat(failure(settings("client-secret", "  ")).getMessage()).contains("is required");
  }

  @Test
  void sellerWithoutAccountId_failsAtBuildTime() {
    ConfigurationException e = failure(settings("type", "SELLER"));

    assertThat(e.setting()).isEqualTo("account-id");
    assertThat(e.getMessage()).contains("naver:self", "required with type SELLER");
  }

  @Test
  void selfWithAccountId_failsAtBuildTime() {
    ConfigurationException e = failure(settings("account-id", "seller-1"));

    assertThat(e.setting()).isEqualTo("account-id");
    assertThat(e.getMessage()).contains("only used with type SELLER");
  }

  @Test
  void seller_isAcceptedInAnyCase() {
    assertThat(create(settings("type", "seller", "account-id", "seller-1")).toString())
        .contains("type=SELLER", "account=seller-1");
  }

  @Test
  void unknownType_fails() {
    ConfigurationException e = failure(settings("type", "PARTNER"));

    assertThat(e.setting()).isEqualTo("type");
    assertThat(e.getMessage()).contains("SELF or SELLER");
  }

  @Test
  void renewBeforeAboveThirtyMinutes_failsExplainingTheSameTokenRule() {
    ConfigurationException e = failure(settings("renew-before", "31m"));

    assertThat(e.setting()).isEqualTo("renew-before");
    assertThat(e.getMessage()).contains("at most 30m", "same token", "30 minutes");
  }

  @Test
  void renewBeforeBoundaries() {
    assertThat(create(settings("renew-before", "30m")).renewalPolicy().renewBefore())
        .isEqualTo(Duration.ofMinutes(30));
    assertThat(failure(settings("renew-before", "1801s")).setting()).isEqualTo("renew-before");
    assertThat(create(settings("renew-before", "30s")).renewalPolicy().renewBefore())
        .isEqualTo(Duration.ofSeconds(30));
    assertThat(failure(settings("renew-before", "29s")).setting()).isEqualTo("renew-before");
  }

  @Test
  void timestampMarginAboveOneMinute_fails() {
    assertThat(failure(settings("timestamp-margin", "2m")).setting()).isEqualTo("timestamp-margin");
    assertThat(create(settings("timestamp-margin", "0s"))).isNotNull();
  }

  @Test
  void unknownSetting_failsNamingIt() {
    ConfigurationException e = failure(settings("client_id", "typo"));

    assertThat(e.setting()).isEqualTo("client_id");
    assertThat(e.getMessage()).contains("not a known setting");
  }

  @Test
  void plainHttpBaseUrl_isOnlyAcceptedForLoopback() {
    assertThat(failure(settings("base-url", "http://api.commerce.naver.com")).setting())
        .isEqualTo("base-url");
    assertThat(create(settings("base-url", "http://127.0.0.1:8080/naver/")).toString())
        .contains("http://127.0.0.1:8080/naver/external/v1/oauth2/token");
  }

  @Test
  void creatingAProvider_sendsNothing() {
    // Signing happens only when a token is requested; building must stay cheap and offline.
    assertThat(create(settings("base-url", "http://127.0.0.1:9"))).isNotNull();
  }

  @Test
  void failuresOnOneSetting_doNotEchoAnyValue() {
    assertThatThrownBy(() -> create(settings("type", "$2a$04$abcdefghijklmnopqrstuv")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageNotContaining("abcdefghijklmnopqrstuv");
  }
}
