package dev.tokenbroker.kakao;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

class KakaoProviderFactoryTest {
  private static final ConnectionId ID = ConnectionId.of("kakao", "shop-bot");

  @Test
  void serviceLoader_findsTheFactoryByName() {
    assertThat(ServiceLoader.load(TokenProviderFactory.class).stream())
        .anySatisfy(
            p -> {
              assertThat(p.get()).isInstanceOf(KakaoProviderFactory.class);
              assertThat(p.get().name()).isEqualTo("kakao");
            });
  }

  @Test
  void create_withMinimalSettings_usesKakaosDefaults() {
    TokenProvider p = provider(Map.of());

    assertThat(p.name()).isEqualTo("kakao");
    assertThat(p.grantType()).isEqualTo(GrantType.AUTHORIZATION_CODE);
    assertThat(p.usesPkce()).isTrue();
    assertThat(p.validatesOnLoad()).isFalse();
    assertThat(p.renewalPolicy().renewBefore()).isEqualTo(Duration.ofMinutes(5));
    assertThat(p.renewalPolicy().expirySkew()).isEqualTo(Duration.ofSeconds(30));
    assertThat(p.renewalPolicy().keepAliveBefore()).isEqualTo(Duration.ofDays(21));
    assertThat(p.authorizationUrl("s", "c".repeat(43)).toString())
        .startsWith("https://kauth.kakao.com/oauth/authorize?");
  }

  @Test
  void create_withOptions_appliesThem() {
    TokenProvider p =
        provider(
            Map.of(
                "pkce", "false",
                "validate-on-load", true,
                "app-id", "1234",
                "renew-before", "10s",
                "keep-alive-before", "28d"));

    assertThat(p.usesPkce()).isFalse();
    assertThat(p.validatesOnLoad()).isTrue();
    assertThat(p.renewalPolicy().renewBefore()).isEqualTo(Duration.ofSeconds(10));
    assertThat(p.renewalPolicy().expirySkew())
        .as("the skew never exceeds the renewal margin")
        .isEqualTo(Duration.ofSeconds(10));
    assertThat(p.renewalPolicy().keepAliveBefore()).isEqualTo(Duration.ofDays(28));
  }

  @Test
  void create_withoutClientId_namesConnectionAndSetting() {
    Map<String, Object> s = base();
    s.remove("client-id");

    assertThatThrownBy(() -> create(s))
        .isInstanceOfSatisfying(
            ConfigurationException.class, e -> assertThat(e.setting()).isEqualTo("client-id"))
        .hasMessageContaining("kakao:shop-bot");
  }

  @Test
  void create_withoutRedirectUri_fails() {
    Map<String, Object> s = base();
    s.remove("redirect-uri");

    assertInvalid(s, "redirect-uri");
  }

  @Test
  void create_withAMisspelledSetting_failsInsteadOfIgnoringIt() {
    assertInvalid(with("client_secret", "x"), "client_secret");
  }

  @Test
  void create_withANonNumericOrZeroAppId_fails() {
    assertInvalid(with("app-id", "my-app"), "app-id");
    assertInvalid(with("app-id", "0"), "app-id");
  }

  @Test
  void create_validatingOnLoadWithoutAppId_fails() {
    assertInvalid(with("validate-on-load", "true"), "app-id");
  }

  @Test
  void create_withPlainHttpToARemoteHost_fails() {
    assertInvalid(with("auth-base-url", "http://kauth.kakao.com"), "auth-base-url");
    assertInvalid(with("api-base-url", "http://kapi.kakao.com"), "api-base-url");
  }

  @Test
  void create_withAKeepAliveOutsideTheRotationWindow_fails() {
    assertInvalid(with("keep-alive-before", "30d"), "keep-alive-before");
    assertInvalid(with("keep-alive-before", "0s"), "keep-alive-before");
  }

  @Test
  void create_withAZeroRenewalMargin_fails() {
    assertInvalid(with("renew-before", "0s"), "renew-before");
  }

  @Test
  void create_withAScopeHoldingWhiteSpace_fails() {
    assertInvalid(with("scopes", List.of("profile_nickname talk_message")), "scopes");
  }

  @Test
  void create_withScopesAsCommaSeparatedText_readsEachScope() {
    TokenProvider p = provider(Map.of("scopes", "profile_nickname, talk_message", "pkce", false));

    assertThat(p.authorizationUrl("s", null).getQuery())
        .contains("scope=profile_nickname,talk_message");
  }

  @Test
  void create_withAnInvalidRedirectUri_fails() {
    assertInvalid(with("redirect-uri", "not a url"), "redirect-uri");
  }

  @Test
  void providerToString_neverShowsTheClientSecret() {
    TokenProvider p = provider(Map.of("client-secret", "very-secret-value"));

    assertThat(p.toString()).doesNotContain("very-secret-value").contains("clientSecret=set");
  }

  private static void assertInvalid(Map<String, Object> settings, String setting) {
    assertThatThrownBy(() -> create(settings))
        .isInstanceOfSatisfying(
            ConfigurationException.class, e -> assertThat(e.setting()).isEqualTo(setting))
        .hasMessageContaining("kakao:shop-bot");
  }

  private static Map<String, Object> base() {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("provider", "kakao");
    s.put("client-id", "0123456789abcdef0123456789abcdef");
    s.put("redirect-uri", "https://example.com/kakao/callback");
    return s;
  }

  private static Map<String, Object> with(String key, Object value) {
    Map<String, Object> s = base();
    s.put(key, value);
    return s;
  }

  /** A provider from the base settings plus {@code extra}. */
  private static TokenProvider provider(Map<String, ?> extra) {
    Map<String, Object> s = base();
    s.putAll(extra);
    return create(s);
  }

  private static TokenProvider create(Map<String, Object> settings) {
    return new KakaoProviderFactory()
        .create(
            new Settings(ID, settings),
            new ProviderContext(ID, FakeClock.create(), new OkHttpClient(), new SecureRandom()));
  }
}
