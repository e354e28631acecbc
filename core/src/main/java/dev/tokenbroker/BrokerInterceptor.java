package dev.tokenbroker;

import dev.tokenbroker.spi.ApiVerdict;
import java.io.IOException;
import okhttp3.Interceptor;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * Adds a connection's token to application requests; on a provider-classified rejection renews once
 * and replays once. A second rejection goes back to the caller: never a loop.
 */
final class BrokerInterceptor implements Interceptor {
  private final TokenCalls tokens;
  private final RuntimeConnections connections;
  private final Connection conn;

  BrokerInterceptor(TokenCalls tokens, RuntimeConnections connections, Connection conn) {
    this.tokens = tokens;
    this.connections = connections;
    this.conn = conn;
  }

  @Override
  public Response intercept(Chain chain) throws IOException {
    Request original = chain.request();
    CachedToken token = token();
    Response response = chain.proceed(authorize(original, token));
    if (response.code() < 400) {
      return response; // the common case costs one comparison
    }
    ApiVerdict verdict = conn.provider.classifyApiResponse(response);
    switch (verdict.kind()) {
      case CONNECTION_DEAD:
        connections.markDead(conn, verdict);
        return response;
      case TOKEN_REJECTED:
        RequestBody body = original.body();
        if (body != null && body.isOneShot()) {
          return response; // cannot replay a one-shot body; the caller sees the 401
        }
        CachedToken renewed;
        try {
          renewed = tokens.renewAfterRejection(conn, token);
        } catch (TokenBrokerException e) {
          response.close();
          throw new TokenUnavailableIOException(e);
        }
        if (renewed.accessToken().equals(token.accessToken())) {
          return response; // the platform handed back the same token: replaying cannot help
        }
        response.close();
        return chain.proceed(authorize(original, renewed));
      default:
        return response;
    }
  }

  private CachedToken token() throws IOException {
    try {
      return tokens.current(conn);
    } catch (TokenBrokerException e) {
      throw new TokenUnavailableIOException(e);
    }
  }

  private Request authorize(Request original, CachedToken token) {
    Request.Builder b = original.newBuilder().header("Authorization", token.authorization());
    conn.provider.decorateApiRequest(b, token.tokenSet());
    return b.build();
  }
}
