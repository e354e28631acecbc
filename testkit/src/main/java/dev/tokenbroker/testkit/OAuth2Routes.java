package dev.tokenbroker.testkit;

import static dev.tokenbroker.testkit.EmulatorServer.json;
import static dev.tokenbroker.testkit.EmulatorServer.obj;
import static dev.tokenbroker.testkit.OAuth2Emulator.AUTHORIZATION_CODE;
import static dev.tokenbroker.testkit.OAuth2Emulator.AUTHORIZE_PATH;
import static dev.tokenbroker.testkit.OAuth2Emulator.CLIENT_CREDENTIALS;
import static dev.tokenbroker.testkit.OAuth2Emulator.REFRESH_TOKEN;
import static dev.tokenbroker.testkit.OAuth2Emulator.REVOKE_PATH;
import static dev.tokenbroker.testkit.OAuth2Emulator.TOKEN_PATH;

import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import okhttp3.HttpUrl;

/**
 * Where the {@link OAuth2Emulator} serves its token, authorization and revocation endpoints: the
 * default paths or those set with {@link OAuth2Emulator#paths}. {@link #route} maps a request path
 * to the endpoint's default path (a default path no longer in use routes nowhere), and {@link
 * #metadata} writes the RFC 8414 document listing the paths in use. Thread-safe.
 */
final class OAuth2Routes {
  private volatile String tokenPath = TOKEN_PATH;
  private volatile String authorizePath = AUTHORIZE_PATH;
  private volatile String revokePath = REVOKE_PATH;

  void set(String token, String authorize, String revoke) {
    this.tokenPath = Objects.requireNonNull(token, "token");
    this.authorizePath = Objects.requireNonNull(authorize, "authorize");
    this.revokePath = Objects.requireNonNull(revoke, "revoke");
  }

  /**
   * The default path of the endpoint {@code path} serves, {@code ""} for a default path no longer
   * configured, or {@code path} itself for anything else.
   */
  String route(String path) {
    // Configured paths stand for the default ones; a default path no longer configured is 404.
    return path.equals(tokenPath)
        ? TOKEN_PATH
        : path.equals(authorizePath)
            ? AUTHORIZE_PATH
            : path.equals(revokePath)
                ? REVOKE_PATH
                : List.of(TOKEN_PATH, AUTHORIZE_PATH, REVOKE_PATH).contains(path) ? "" : path;
  }

  /**
   * The RFC 8414 authorization server metadata.
   *
   * @param issuer the issuer, the emulator's base URL
   * @param url the emulator's absolute URL of a path
   */
  MockResponse metadata(String issuer, Function<String, HttpUrl> url) {
    return json(
        200,
        obj(
            "issuer",
            issuer,
            "token_endpoint",
            url.apply(tokenPath).toString(),
            "authorization_endpoint",
            url.apply(authorizePath).toString(),
            "revocation_endpoint",
            url.apply(revokePath).toString(),
            "response_types_supported",
            List.of("code"),
            "grant_types_supported",
            List.of(AUTHORIZATION_CODE, REFRESH_TOKEN, CLIENT_CREDENTIALS),
            "token_endpoint_auth_methods_supported",
            List.of("client_secret_basic", "client_secret_post", "none"),
            "code_challenge_methods_supported",
            List.of("S256")));
  }
}
