package dev.tokenbroker.cafe24;

import static dev.tokenbroker.cafe24.Cafe24Fixture.BASIC;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.RecordedRequest;
import java.security.SecureRandom;
import java.util.Map;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A connection made from the template {@code cafe24:{mall}}: the subject is the mall. */
class Cafe24TemplateTest {
  private final Cafe24Fixture fixture = new Cafe24Fixture();

  @AfterEach
  void close() {
    fixture.close();
  }

  private TokenProvider fromTemplate(Map<String, Object> settings, @Nullable String subject) {
    ConnectionId id = ConnectionId.of("cafe24", subject == null ? "pending" : subject);
    return new Cafe24ProviderFactory()
        .create(
            new Settings(id, settings),
            new ProviderContext(id, fixture.clock, fixture.http, new SecureRandom(), subject));
  }

  private static Map<String, Object> withoutMallId(Map<String, Object> settings) {
    settings.remove("mall-id");
    return settings;
  }

  @Test
  void create_templateSubjectWithoutMallId_servesThatMall() {
    TokenProvider provider = fromTemplate(withoutMallId(fixture.settings("x")), "mall-b");

    HttpUrl authorize = HttpUrl.get(provider.authorizationUrl("state-1", null));
    assertThat(authorize.encodedPath()).isEqualTo("/mall-b/api/v2/oauth/authorize");
    HttpUrl redirected = HttpUrl.get(fixture.cafe24.approve(authorize.uri()));
    TokenSet tokens = provider.exchangeCode(redirected.queryParameter("code"), null);

    // The code went to mall-b's token endpoint, with the app's Basic credentials.
    RecordedRequest sent = fixture.cafe24.lastRequest(fixture.cafe24.tokenPath("mall-b"));
    assertThat(sent).isNotNull();
    assertThat(sent.getHeader("Authorization")).isEqualTo(BASIC);
    assertThat(EmulatorServer.form(sent)).containsEntry("grant_type", "authorization_code");
    assertThat(fixture.cafe24.requests(fixture.cafe24.tokenPath("mall-a"))).isEmpty();
    assertThat(tokens.extras()).containsEntry("mall_id", "mall-b");
    // The mall was known before the exchange: nothing to learn afterwards.
    assertThat(provider.subjectOf(tokens)).isNull();
  }

  @Test
  void create_templateSubjectEqualToMallId_isAccepted() {
    TokenProvider provider = fromTemplate(fixture.settings("mall-a"), "mall-a");
    assertThat(provider.authorizationUrl("s", null).getPath())
        .isEqualTo("/mall-a/api/v2/oauth/authorize");
  }

  @Test
  void create_templateSubjectDifferentFromMallId_failsNamingMallIdButNeitherValue() {
    ConfigurationException e =
        catchThrowableOfType(
            () -> fromTemplate(fixture.settings("mall-a"), "mall-b"), ConfigurationException.class);
    assertThat(e.setting()).isEqualTo("mall-id");
    assertThat(e.getMessage()).contains("cafe24:{mall}").doesNotContain("mall-a");
  }

  @Test
  void create_noMallIdAndNoSubject_failsNamingMallId() {
    ConfigurationException e =
        catchThrowableOfType(
            () -> fromTemplate(withoutMallId(fixture.settings("x")), null),
            ConfigurationException.class);
    assertThat(e.setting()).isEqualTo("mall-id");
    assertThat(e.getMessage()).contains("is required");
  }

  @Test
  void create_subjectThatIsNoMallId_failsNamingMallIdWithoutEchoingIt() {
    ConfigurationException e =
        catchThrowableOfType(
            () -> fromTemplate(withoutMallId(fixture.settings("x")), "Evil.Host"),
            ConfigurationException.class);
    assertThat(e.setting()).isEqualTo("mall-id");
    // The connection's own name carries the subject; the problem text does not repeat it.
    String problem = e.getMessage().substring(e.getMessage().indexOf("setting 'mall-id'"));
    assertThat(problem).contains("template subject").doesNotContain("Evil.Host");
  }

  @Test
  void create_launchMaxAgeOutOfBounds_failsWhenTheBrokerIsBuilt() {
    Map<String, Object> settings = fixture.settings("mall-a");
    settings.put("launch-max-age", "2h");
    ConfigurationException e =
        catchThrowableOfType(() -> fixture.provider(settings), ConfigurationException.class);
    assertThat(e.setting()).isEqualTo("launch-max-age");
  }
}
