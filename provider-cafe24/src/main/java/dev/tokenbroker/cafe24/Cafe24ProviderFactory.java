package dev.tokenbroker.cafe24;

import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.SettingRules;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenProviderFactory;
import java.time.Duration;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * Builds {@link TokenProvider}s for Cafe24 malls: {@code provider: cafe24}.
 *
 * <p>Settings of a connection (in YAML usually inherited from an {@code apps:} entry through {@code
 * app:}, so that many malls share one app's credentials):
 *
 * <table>
 *   <caption>Cafe24 settings</caption>
 *   <tr><th>setting</th><th></th><th>meaning</th></tr>
 *   <tr><td>{@code mall-id}</td><td>required, except in a template</td><td>the mall, e.g.
 *       {@code mymall}; for a connection made from a template ({@code cafe24:{mall}}) it defaults
 *       to the template's subject, and if both are given they must be equal</td></tr>
 *   <tr><td>{@code client-id}</td><td>required</td><td>the app's client id</td></tr>
 *   <tr><td>{@code client-secret}</td><td>required</td><td>the app's client secret</td></tr>
 *   <tr><td>{@code redirect-uri}</td><td>required</td>
 *       <td>exactly as registered with the app, trailing slash included</td></tr>
 *   <tr><td>{@code scopes}</td><td>required</td><td>e.g. {@code [mall.read_product]}</td></tr>
 *   <tr><td>{@code shop-no}</td><td>optional</td>
 *       <td>the shop of a multi-shop mall; recorded as the {@code shop_no} extra when the token
 *       response has none</td></tr>
 *   <tr><td>{@code api-version}</td><td>optional</td>
 *       <td>{@code YYYY-MM-DD}, sent as {@code X-Cafe24-Api-Version} on API calls</td></tr>
 *   <tr><td>{@code base-url}</td><td>optional</td>
 *       <td>template, default {@value #DEFAULT_BASE_URL}; {@code {mall_id}} is replaced</td></tr>
 *   <tr><td>{@code renew-before}</td><td>optional</td>
 *       <td>renew this long before the 2-hour expiry, default 5m, from 30s to under 2h</td></tr>
 *   <tr><td>{@code launch-max-age}</td><td>optional</td>
 *       <td>how old an app launch ({@link Cafe24AppLaunch}) may be, default 5m, from 10s to 1h;
 *       read by {@link Cafe24AppLaunch#from}, not by the provider</td></tr>
 * </table>
 *
 * <p>Every setting is checked here, so a bad one fails when the broker is built, naming the
 * connection and the setting. Thread-safe and stateless; {@link java.util.ServiceLoader} finds it
 * through {@code META-INF/services}.
 */
public final class Cafe24ProviderFactory implements TokenProviderFactory {
  /** The {@code provider:} value this factory serves. */
  public static final String NAME = "cafe24";

  /** The base URL template used when {@code base-url} is not set. */
  public static final String DEFAULT_BASE_URL = "https://{mall_id}.cafe24api.com";

  static final String MALL_ID_PLACEHOLDER = "{mall_id}";
  static final Duration DEFAULT_RENEW_BEFORE = Duration.ofMinutes(5);
  // Cafe24 access tokens live 2 hours; a margin as long as that would renew on every call.
  static final Duration ACCESS_LIFETIME = Duration.ofHours(2);

  private static final Set<String> KNOWN =
      Set.of(
          "mall-id",
          "client-id",
          "client-secret",
          "redirect-uri",
          "scopes",
          "shop-no",
          "api-version",
          "base-url",
          "renew-before",
          Cafe24AppLaunch.MAX_AGE_SETTING);

  // Mall ids are lower-case letters and digits and become a host name label; dashes are
  // tolerated for emulators and test malls.
  private static final Pattern MALL_ID = Pattern.compile("[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?");
  private static final Pattern CLIENT_ID = Pattern.compile("[^:\\s]+");
  private static final Pattern SCOPE = Pattern.compile("[A-Za-z0-9._-]+");
  private static final Pattern API_VERSION = Pattern.compile("\\d{4}-\\d{2}-\\d{2}");

  /** For {@link java.util.ServiceLoader}. */
  public Cafe24ProviderFactory() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public TokenProvider create(Settings settings, ProviderContext context) {
    settings.rejectUnknown(KNOWN);
    String mallId = mallId(settings, context.subject());
    // Checked here as well, so a bad launch-max-age fails when the broker is built.
    Cafe24AppLaunch.maxAge(settings);
    Cafe24Config config =
        new Cafe24Config(
            mallId,
            // Basic authentication (unencoded, as Cafe24 takes it) cannot carry a ':' in the id.
            settings.require("client-id", CLIENT_ID, "must not contain ':' or white space"),
            settings.require("client-secret"),
            settings.requireRedirectUri("redirect-uri"),
            scopes(settings),
            shopNo(settings),
            apiVersion(settings),
            baseUrl(settings, mallId),
            renewal(settings));
    return new Cafe24Provider(config, context);
  }

  /**
   * The configured {@code mall-id}, or for a template connection ({@code cafe24:{mall}}) the
   * template's subject. Neither value is ever put in a message: only the setting is named.
   */
  private static String mallId(Settings settings, @Nullable String subject) {
    String mallId =
        SettingRules.orSubject(
            settings,
            "mall-id",
            subject,
            "cafe24:{mall}",
            MALL_ID,
            "must be the mall id as Cafe24 writes it: lower-case letters and digits (e.g. mymall)");
    if (mallId == null) {
      throw settings.invalid(
          "mall-id",
          "is required (or connect the mall through a template app, cafe24:{mall}, whose"
              + " subject is the mall id)");
    }
    return mallId;
  }

  /** Whether {@code mallId} is written as Cafe24 writes mall ids (used for launches too). */
  static boolean isMallId(String mallId) {
    return MALL_ID.matcher(mallId).matches();
  }

  private static List<String> scopes(Settings settings) {
    List<String> scopes =
        settings.list(
            "scopes",
            SCOPE,
            "is not a Cafe24 scope (letters, digits, '.', '_' and '-' only, e.g."
                + " mall.read_product)");
    if (scopes.isEmpty()) {
      throw settings.invalid(
          "scopes", "is required: list the scopes the app needs, e.g. [mall.read_product]");
    }
    return scopes;
  }

  private static @Nullable String shopNo(Settings settings) {
    if (!settings.has("shop-no")) {
      return null;
    }
    int shopNo = settings.integer("shop-no", 0);
    if (shopNo < 1) {
      throw settings.invalid("shop-no", "must be a positive whole number (1 is the default shop)");
    }
    return Integer.toString(shopNo);
  }

  private static @Nullable String apiVersion(Settings settings) {
    String problem = "must be a date YYYY-MM-DD, e.g. 2024-06-01";
    String version = SettingRules.optional(settings, "api-version", API_VERSION, problem);
    try {
      if (version != null) {
        LocalDate.parse(version); // the pattern lets 2024-02-30 through
      }
    } catch (DateTimeParseException e) {
      throw settings.invalid("api-version", problem);
    }
    return version;
  }

  private static HttpUrl baseUrl(Settings settings, String mallId) {
    String template = settings.optional("base-url", DEFAULT_BASE_URL);
    String url = template.replace(MALL_ID_PLACEHOLDER, mallId);
    if (url.indexOf('{') >= 0 || url.indexOf('}') >= 0) {
      throw settings.invalid(
          "base-url", "has an unknown placeholder; only " + MALL_ID_PLACEHOLDER + " is replaced");
    }
    HttpUrl base = settings.checkedUrl("base-url", url);
    if (base.query() != null || base.fragment() != null) {
      throw settings.invalid("base-url", "must not contain a query or fragment");
    }
    return base;
  }

  private static RenewalPolicy renewal(Settings settings) {
    // Settings bound every duration; this one is also bounded by the 2-hour token lifetime.
    return SettingRules.renewBefore(
        settings,
        DEFAULT_RENEW_BEFORE,
        SettingRules.EXPIRY_SKEW,
        ACCESS_LIFETIME.minusNanos(1),
        "must be at least 30s and less than 2h (Cafe24 access tokens live 2 hours)");
  }
}
