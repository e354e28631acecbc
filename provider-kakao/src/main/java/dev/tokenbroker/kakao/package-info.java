/**
 * The Kakao provider: Kakao Login's authorization code with PKCE, a refresh token that rotates only
 * in its last month, token-info validation against the configured app, logout and unlink. Select it
 * with {@code provider: kakao}; see {@link dev.tokenbroker.kakao.KakaoProviderFactory} for the
 * settings.
 */
@NullMarked
package dev.tokenbroker.kakao;

import org.jspecify.annotations.NullMarked;
