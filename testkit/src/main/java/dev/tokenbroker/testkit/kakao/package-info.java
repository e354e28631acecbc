/**
 * An emulator of Kakao Login: the authorization server ({@code kauth.kakao.com}) and the user API
 * ({@code kapi.kakao.com}) on one local server, with PKCE, single-use codes, refresh tokens that
 * rotate only in their last month, token info, logout and unlink.
 */
@NullMarked
package dev.tokenbroker.testkit.kakao;

import org.jspecify.annotations.NullMarked;
