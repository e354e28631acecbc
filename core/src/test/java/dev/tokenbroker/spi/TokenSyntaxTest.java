package dev.tokenbroker.spi;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TokenSyntaxTest {
  @Test
  void accessToken_realPlatformShapes_areAccepted() {
    assertThat(TokenSyntax.accessTokenProblem("AAAAtmU3M2I0ZWQ4LTc1ZDUtNDM1ZS1iZGE2LTBmNmYxMmYx"))
        .isNull();
    assertThat(TokenSyntax.accessTokenProblem("eyJhbGciOiJIUzI1NiJ9.e30.sig-_~+/==")).isNull();
    // eBay's user tokens are outside RFC 6750's b64token, and eBay takes them back as they are
    assertThat(TokenSyntax.accessTokenProblem("v^1.1#i^1#p^3#r^0#I^3#f^0#t^H4sIAAAAAAAAAOVY=="))
        .isNull();
  }

  @Test
  void accessToken_thatCannotGoInAHeader_isRefused_withItsPosition_neverItsValue() {
    assertThat(TokenSyntax.accessTokenProblem("abc def"))
        .contains("space")
        .contains("position 4")
        .doesNotContain("abc");
    assertThat(TokenSyntax.accessTokenProblem("abc\r\nX-Injected: 1"))
        .contains("outside printable ASCII at position 4");
    assertThat(TokenSyntax.accessTokenProblem("tökén")).contains("position 2");
    assertThat(TokenSyntax.accessTokenProblem("  ")).isEqualTo("is empty");
    assertThat(TokenSyntax.accessTokenProblem("a".repeat(TokenSyntax.MAX_TOKEN_LENGTH + 1)))
        .contains("longer than");
  }
}
