package io.lakehouse.thrift;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import javax.security.sasl.AuthenticationException;
import org.apache.hive.service.auth.PasswdAuthenticationProvider;

/**
 * The JDBC logins of the lakehouse's Spark Thrift server (hive.server2.authentication=CUSTOM,
 * scripts/thrift.sh).
 *
 * <p>Two users: {@code analyst} (silver and gold, read only: {@link AnalystAccessRule}) and
 * {@code lakehouse} (the platform team: every layer). Their passwords are generated once into
 * var/credentials.env by scripts/setup.sh and reach the server's JVM through its environment,
 * never its command line. A password is compared in constant time; an unknown user, a missing
 * or wrong password get the same answer.
 */
public final class LakehouseAuthenticator implements PasswdAuthenticationProvider {

  /** user name -> the environment variable holding its password */
  static final Map<String, String> USERS =
      Map.of(
          AnalystAccessRule.ANALYST, "LAKEHOUSE_JDBC_ANALYST_PASSWORD",
          "lakehouse", "LAKEHOUSE_JDBC_ADMIN_PASSWORD");

  @Override
  public void Authenticate(String user, String password) throws AuthenticationException {
    String variable = user == null ? null : USERS.get(user);
    String expected = variable == null ? null : System.getenv(variable);
    boolean ok =
        expected != null
            && !expected.isEmpty()
            && password != null
            && MessageDigest.isEqual(
                expected.getBytes(StandardCharsets.UTF_8),
                password.getBytes(StandardCharsets.UTF_8));
    if (!ok) {
      throw new AuthenticationException("invalid user name or password");
    }
  }
}
