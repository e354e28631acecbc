package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.spi.Secrets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SecretsTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @Test
  void tokenSetToString_showsFingerprintsOnly() {
    TokenSet t =
        TokenSet.builder()
            .accessToken("AT-very-secret-access-token")
            .refreshToken("RT-very-secret-refresh-token")
            .refreshExpiresAt(T0.plusSeconds(3600))
            .issuedAt(T0)
            .expiresAt(T0.plusSeconds(60))
            .extra("mall_id", "mymall")
            .extra("id_token", "ID-very-secret")
            .build();
    String s = t.toString();
    assertThat(s)
        .doesNotContain("very-secret")
        .contains("mymall")
        .contains(Secrets.fingerprint("AT-very-secret-access-token"));
  }

  @Test
  void scrub_removesKnownSecretsSecretLookingMembersAndBearerCredentials() {
    String body =
        "{\"access_token\":\"abc123456\",\"refresh_token\":\"r\\\"x\",\"error\":\"invalid_grant\",\"note\":\"s3cr3tvalue here\"}"
            + " Authorization: Bearer eyJhbGciOi.x.y refresh_token=zzzz&client_secret=qqq code=c0de";
    String s = Secrets.scrub(body, List.of("s3cr3tvalue"), 1000);
    assertThat(s)
        .doesNotContain("abc123456", "r\\\"x", "s3cr3tvalue", "eyJhbGciOi", "zzzz", "qqq", "c0de")
        .contains("invalid_grant");
    assertThat(Secrets.scrub("x".repeat(50), List.of(), 10)).startsWith("xxxxxxxxxx…(40 more");
    // error codes are diagnostics, not secrets
    assertThat(Secrets.scrub("{\"error_code\":\"KOE322\",\"code\":\"abc\"}", List.of(), 200))
        .contains("KOE322")
        .doesNotContain("abc");
  }

  @Test
  void tokenSetRejectsNonsense() {
    assertThatThrownBy(() -> TokenSet.builder().accessToken("a").issuedAt(T0).expiresAt(T0).build())
        .hasMessageContaining("must be after issuedAt");
    assertThatThrownBy(
            () ->
                TokenSet.builder()
                    .accessToken(" ")
                    .issuedAt(T0)
                    .expiresAt(T0.plusSeconds(1))
                    .build())
        .hasMessageContaining("blank");
  }

  @Test
  void connectionIds_parseAndReject() {
    ConnectionId id = ConnectionId.parse("naver:seller:12345");
    assertThat(id.provider()).isEqualTo("naver");
    assertThat(id.account()).isEqualTo("seller:12345");
    assertThat(id)
        .isEqualTo(ConnectionId.of("naver", "seller:12345"))
        .hasToString("naver:seller:12345");
    assertThatThrownBy(() -> ConnectionId.parse("cafe24")).hasMessageContaining("provider:account");
    assertThatThrownBy(() -> ConnectionId.parse("Cafe24:x")).hasMessageContaining("provider name");
    assertThatThrownBy(() -> ConnectionId.parse("cafe24:my mall"))
        .hasMessageContaining("white space");
  }
}
