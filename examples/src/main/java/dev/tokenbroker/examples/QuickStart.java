package dev.tokenbroker.examples;

import dev.tokenbroker.AuthorizationRequest;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.testkit.cafe24.Cafe24Emulator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * The README's quick start: a broker from a configuration file, one Cafe24 mall connected once (the
 * browser step played by the emulator), then tokens and an OkHttp client that always carries one.
 * Runs against the embedded Cafe24 emulator; prints what happened and exits non-zero if the API
 * call did not succeed.
 */
public final class QuickStart {
  private QuickStart() {}

  public static void main(String[] args) throws IOException {
    try (Cafe24Emulator cafe24 = new Cafe24Emulator(Clock.systemUTC()).start()) {
      cafe24
          .registerApp("my-client-id", "my-client-secret", "http://localhost:8765/callback")
          .addMall("mymall");
      Path config = Files.createTempFile("tokenbroker", ".yaml");
      Files.writeString(
          config,
          String.join(
              "\n",
              "apps:",
              "  my-cafe24-app:",
              "    provider: cafe24",
              "    client-id: my-client-id",
              "    client-secret: ${CAFE24_CLIENT_SECRET}",
              "    redirect-uri: http://localhost:8765/callback",
              "    scopes: [mall.read_product]",
              "    base-url: " + cafe24.baseUrlTemplate(),
              "connections:",
              "  cafe24:mymall: { app: my-cafe24-app, mall-id: mymall }",
              ""));
      Map<String, String> env = Map.of("CAFE24_CLIENT_SECRET", "my-client-secret");
      int status = run(config, env, cafe24);
      Files.delete(config);
      if (status != 200) {
        throw new IllegalStateException("the Admin API answered " + status);
      }
    }
  }

  // snippet:quickstart:start
  /**
   * @param config tokenbroker.yaml as above: apps, connections, store
   * @param env where ${VARS} come from: System.getenv() in production, so secrets stay out of files
   * @param cafe24 the embedded emulator (tokenbroker-testkit), playing the browser here
   */
  static int run(Path config, Map<String, String> env, Cafe24Emulator cafe24) throws IOException {
    try (TokenBroker broker =
        TokenBroker.builder()
            .configFile(config)
            .environment(env)
            .listener(event -> System.out.println(event)) // events never carry tokens
            .build()) {
      ConnectionId mall = ConnectionId.parse("cafe24:mymall");

      // Once per mall, a person approves in a browser (here the emulator plays the browser).
      AuthorizationRequest request = broker.startAuthorization(mall);
      String redirectedUrl = cafe24.approve(request.url());
      broker.completeAuthorization(mall, redirectedUrl);

      // From then on: a valid access token, renewed and saved behind the scenes...
      String token = broker.accessToken(mall);
      System.out.println("token " + token.length() + " chars; health " + broker.health(mall));

      // ...or an OkHttp client that always carries one, renewing once on a rejected token.
      OkHttpClient api =
          new OkHttpClient.Builder().addInterceptor(broker.interceptor(mall)).build();
      Request products =
          new Request.Builder()
              .url(cafe24.mallBaseUrl("mymall") + "/api/v2/admin/products")
              .build();
      try (Response response = api.newCall(products).execute()) {
        System.out.println("GET /api/v2/admin/products -> " + response.code());
        return response.code();
      }
    }
  }
  // snippet:quickstart:end
}
