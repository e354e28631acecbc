package dev.tokenbroker.oauth2;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenHttp;
import dev.tokenbroker.spi.TokenResponse;
import java.util.List;
import okhttp3.HttpUrl;
import okhttp3.Request;
import org.jspecify.annotations.Nullable;

/**
 * RFC 8414 authorization server metadata, fetched once when the provider is built. Every problem is
 * a configuration error naming {@code issuer}: the document cannot be fetched, is not a JSON
 * object, names another issuer (§3.3), or lacks or misstates an endpoint.
 */
final class Metadata {
  static final String WELL_KNOWN = ".well-known/oauth-authorization-server";

  final @Nullable HttpUrl tokenEndpoint;
  final @Nullable HttpUrl authorizationEndpoint;
  final @Nullable HttpUrl revocationEndpoint;
  final List<String> codeChallengeMethods;

  private Metadata(
      @Nullable HttpUrl tokenEndpoint,
      @Nullable HttpUrl authorizationEndpoint,
      @Nullable HttpUrl revocationEndpoint,
      List<String> codeChallengeMethods) {
    this.tokenEndpoint = tokenEndpoint;
    this.authorizationEndpoint = authorizationEndpoint;
    this.revocationEndpoint = revocationEndpoint;
    this.codeChallengeMethods = codeChallengeMethods;
  }

  /**
   * The metadata URL of {@code issuer} (RFC 8414 §3.1): the well-known segment goes between the
   * host and the issuer's path, {@code https://h/t} → {@code https://h/.well-known/…/t}.
   */
  static HttpUrl location(HttpUrl issuer) {
    HttpUrl.Builder b = issuer.newBuilder().encodedPath("/").addPathSegments(WELL_KNOWN);
    for (String segment : issuer.pathSegments()) {
      if (!segment.isEmpty()) {
        b.addPathSegment(segment);
      }
    }
    return b.build();
  }

  /**
   * Fetches and checks the metadata of {@code issuer}, written as {@code issuerText}.
   *
   * @throws dev.tokenbroker.ConfigurationException naming {@code issuer}
   */
  static Metadata fetch(Settings settings, String issuerText, HttpUrl issuer, TokenHttp http) {
    HttpUrl url = location(issuer);
    TokenResponse r;
    try {
      r =
          http.send(
              new Request.Builder().url(url).get().header("Accept", "application/json").build(),
              false);
    } catch (TokenEndpointException e) {
      throw problem(settings, "metadata at " + url + " could not be fetched: " + e.reason());
    }
    if (!r.isSuccessful()) {
      throw problem(settings, "metadata at " + url + " answered HTTP " + r.status());
    }
    JsonNode json = r.json();
    if (json == null) {
      throw problem(settings, "metadata at " + url + " is not a JSON object");
    }
    // RFC 8414 §3.3: the issuer in the document must be identical to the one configured, or an
    // attacker's document could redirect the tokens.
    if (!issuerText.equals(text(json, "issuer"))) {
      throw problem(
          settings,
          "metadata at " + url + " names another issuer (RFC 8414 §3.3 requires the same)");
    }
    List<String> methods = new java.util.ArrayList<>();
    JsonNode m = json.get("code_challenge_methods_supported");
    if (m != null && m.isArray()) {
      m.forEach(x -> methods.add(x.asText()));
    }
    return new Metadata(
        endpoint(settings, json, "token_endpoint"),
        endpoint(settings, json, "authorization_endpoint"),
        endpoint(settings, json, "revocation_endpoint"),
        List.copyOf(methods));
  }

  private static @Nullable HttpUrl endpoint(Settings settings, JsonNode json, String member) {
    String v = text(json, member);
    if (v == null) {
      return null;
    }
    HttpUrl url = HttpUrl.parse(v);
    if (url == null || (!url.isHttps() && !Settings.isLoopback(url.host()))) {
      throw problem(settings, "metadata's " + member + " is not an https URL");
    }
    return url;
  }

  private static @Nullable String text(JsonNode json, String member) {
    JsonNode n = json.get(member);
    return n != null && n.isTextual() && !n.asText().isBlank() ? n.asText() : null;
  }

  private static RuntimeException problem(Settings settings, String what) {
    return settings.invalid(
        "issuer", what + "; fix the issuer, or configure token-url and authorize-url instead");
  }
}
