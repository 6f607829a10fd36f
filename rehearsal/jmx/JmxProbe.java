// Reads a running JVM's MBeans as the Prometheus JMX exporter does, for the rehearsal, where the
// exporter's jar cannot be fetched: attaches to the JVM (its user, or root), starts its local JMX
// connector, and prints every readable attribute of the beans the given object name patterns
// (the rules' includeObjectNames) select. One line per attribute, tab-separated:
//   domain, key property list as registered (the exporter keeps that order), attribute, type, value
// where type is number, boolean or string. The exporter's rules are applied to these on the host.
//
//   java JmxProbe.java <pid> '<object name pattern>'...
import com.sun.tools.attach.VirtualMachine;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.management.Attribute;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

public class JmxProbe {
  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: java JmxProbe.java <pid> <object name pattern>...");
      System.exit(2);
    }
    VirtualMachine vm = VirtualMachine.attach(args[0]);
    String address;
    try {
      address = vm.startLocalManagementAgent();
    } finally {
      vm.detach();
    }
    try (JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(address))) {
      MBeanServerConnection server = connector.getMBeanServerConnection();
      Set<ObjectName> names = new TreeSet<>();
      for (int i = 1; i < args.length; i++) names.addAll(server.queryNames(new ObjectName(args[i]), null));
      for (ObjectName name : names) {
        List<String> readable = new ArrayList<>();
        for (MBeanAttributeInfo info : server.getMBeanInfo(name).getAttributes()) {
          if (info.isReadable()) readable.add(info.getName());
        }
        for (Attribute attribute : server.getAttributes(name, readable.toArray(new String[0])).asList()) {
          Object value = attribute.getValue();
          String type = value instanceof Number ? "number" : value instanceof Boolean ? "boolean" : value instanceof String ? "string" : null;
          if (type == null) continue;
          String text = String.valueOf(value).replace('\t', ' ').replace('\n', ' ');
          System.out.println(String.join("\t", name.getDomain(), name.getKeyPropertyListString(), attribute.getName(), type, text));
        }
      }
    }
  }
}
