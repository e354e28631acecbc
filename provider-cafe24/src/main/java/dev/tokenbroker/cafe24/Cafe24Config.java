package dev.tokenbroker.cafe24;

import dev.tokenbroker.spi.RenewalPolicy;
import java.util.List;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/** One connection's validated Cafe24 settings. {@link #toString()} leaves the secret out. */
record Cafe24Config(
    String mallId,
    String clientId,
    String clientSecret,
    String redirectUri,
    List<String> scopes,
    @Nullable String shopNo,
    @Nullable String apiVersion,
    HttpUrl baseUrl,
    RenewalPolicy renewal) {

  Cafe24Config {
    scopes = List.copyOf(scopes);
  }

  @Override
  public String toString() {
    return "Cafe24Config{mall=" + mallId + ", baseUrl=" + baseUrl + ", clientId=" + clientId + '}';
  }
}
