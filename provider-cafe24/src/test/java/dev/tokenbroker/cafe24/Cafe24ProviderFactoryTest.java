package dev.tokenbroker.cafe24;

import static dev.tokenbroker.cafe24.Cafe24Fixture.SECRET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenProviderFactory;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Cafe24ProviderFactoryTest {
  private final Cafe24Fixture fixture = new Cafe24Fixture();

  @AfterEach
  void close() {
    fixture.close();
  }

  @Test
  void serviceLoader_findsTheFactoryByName() {
    List<String> names =
        ServiceLoader.load(TokenProviderFactory.class).stream()
            .map(p -> p.get().name())
            .collect(Collectors.toList());
    assertThat(names).contains("cafe24");
  }

  @Test
  void create_defaultBaseUrl_isTheMallsOwnHost() {
    Map<String, Object> settings = fixture.settings("mymall");
    settings.remove("base-url");
    URI url = fixture.provider(settings).authorizationUrl("s", null);
    assertThat(url.getScheme()).isEqualTo("https");
    assertThat(url.getHost()).isEqualTo("mymall.cafe24api.com");
    assertThat(url.getPath()).isEqualTo("/api/v2/oauth/authorize");
  }

  @Test
  void create_baseUrlWithTrailingSlash_joinsPathsOnce() {
    Map<String, Object> settings = fixture.settings("mall-a");
    settings.put("base-url", fixture.cafe24.baseUrlTemplate() + "/");
    assertThat(fixture.provider(settings).authorizationUrl("s", null).getPath())
        .isEqualTo("/mall-a/api/v2/oauth/authorize");
  }

  @Test
  void create_renewBefore_isConfigurable() {
    Map<String, Object> settings = fixture.settings("mall-a");
    settings.put("renew-before", "10m");
    TokenProvider provider = fixture.provider(settings);
    assertThat(provider.renewalPolicy().renewBefore()).isEqualTo(Duration.ofMinutes(10));
  }

  @Test
  void create_scopesAsCommaSeparatedText_fromAPropertiesFile() {
    Map<String, Object> settings = fixture.settings("mall-a");
    settings.put("scopes", "mall.read_product, mall.write_order");
    assertThat(fixture.provider(settings).authorizationUrl("s", null).getRawQuery())
        .endsWith("&scope=mall.read_product,mall.write_order");
  }

  @ParameterizedTest(name = "{0} = ''{1}''")
  @CsvSource(
      delimiter = '|',
      value = {
        "mall-id|",
        "mall-id|MyMall",
        "mall-id|my.mall",
        "client-id|",
        "client-id|abc:def",
        "client-secret|",
        "redirect-uri|",
        "redirect-uri|/callback",
        "redirect-uri|https://app.example.com/cb#x",
        "scopes|",
        "scopes|mall.read_product mall.read_order",
        "shop-no|0",
        "shop-no|first",
        "api-version|2024-6-1",
        "api-version|2024-02-30",
        "base-url|http://cafe24.example.com/{mall_id}",
        "base-url|https://{mall}.cafe24api.com",
        "base-url|https://{mall_id}.cafe24api.com?x=1",
        "base-url|not a url",
        "renew-before|10s",
        "renew-before|2h",
        "renew-before|soon",
      })
  void create_badSetting_failsNamingTheConnectionAndSetting(String key, String value) {
    Map<String, Object> settings = fixture.settings("mall-a");
    if (value == null) {
      settings.remove(key);
    } else {
      settings.put(key, value);
    }

    ConfigurationException e =
        catchThrowableOfType(ConfigurationException.class, () -> fixture.provider(settings));
    assertThat(e).as("setting %s", key).isNotNull();
    assertThat(e.setting()).isEqualTo(key);
    assertThat(e.getMessage()).contains("cafe24:").contains("'" + key + "'").doesNotContain(SECRET);
  }

  @Test
  void create_unknownSetting_isReportedNotIgnored() {
    Map<String, Object> settings = fixture.settings("mall-a");
    settings.put("client_secret", SECRET);
    ConfigurationException e =
        catchThrowableOfType(ConfigurationException.class, () -> fixture.provider(settings));
    assertThat(e.setting()).isEqualTo("client_secret");
    assertThat(e.getMessage()).doesNotContain(SECRET);
  }

  @Test
  void create_appKeyFromTheConfigLoader_isAccepted() {
    Map<String, Object> settings = fixture.settings("mall-a");
    settings.put("app", "my-cafe24-app");
    assertThat(fixture.provider(settings).name()).isEqualTo("cafe24");
  }
}
