//! The `system` detector: host name (from `hostname_sources`), OS type, and the attributes
//! that are off by default (host id, arch, addresses, CPU, OS description and version).
//!
//! Name lookups go through the C library resolver (`getaddrinfo`, `getnameinfo`), as Go's
//! cgo resolver does; they block, so the detector runs on a blocking thread.

use std::ffi::{CStr, CString};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::SystemDetectorConfig;
use super::detector::{Detected, SCHEMA_1_6_1, enabled};
use crate::otlp::Value;
use crate::{Error, ErrorKind};

/// Detects the system resource. Blocking.
pub(crate) fn detect(cfg: &SystemDetectorConfig) -> Result<Detected, Error> {
    let on = |name: &str| {
        let default = super::SYSTEM_ATTRIBUTES
            .iter()
            .find(|(n, _)| *n == name)
            .is_some_and(|(_, d)| *d);
        enabled(&cfg.resource_attributes, name, default)
    };
    let fail = |what: &str, e: String| Error::new(ErrorKind::Io, format!("{what}: {e}"));

    // What Go fetches before the host name; any failure aborts the detector.
    let ifaces = if on("host.ip") || on("host.mac") || on("host.interface") {
        interfaces().map_err(|e| fail("failed getting host IP addresses", e.to_string()))?
    } else {
        Vec::new()
    };
    let cpu = if on("host.cpu.vendor.id")
        || on("host.cpu.family")
        || on("host.cpu.model.id")
        || on("host.cpu.model.name")
        || on("host.cpu.stepping")
        || on("host.cpu.cache.l2.size")
    {
        let text = std::fs::read_to_string("/proc/cpuinfo")
            .map_err(|e| fail("failed getting host cpuinfo", e.to_string()))?;
        Some(cpuinfo(&text))
    } else {
        None
    };
    let os_release = std::fs::read_to_string("/etc/os-release")
        .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
        .map(|t| parse_os_release(&t))
        .unwrap_or_default();

    let sources: Vec<&str> = if cfg.hostname_sources.is_empty() {
        vec!["dns", "os"]
    } else {
        cfg.hostname_sources.iter().map(String::as_str).collect()
    };
    let mut hostname = None;
    for source in sources {
        let r = match source {
            "os" => os_hostname().map_err(|e| format!("failed getting OS hostname: {e}")),
            "dns" => fqdn().map_err(|e| format!("getFQDN failed getting FQDN: {e}")),
            "cname" => lookup_cname().map_err(|e| format!("lookupCNAME failed to get CNAME: {e}")),
            "lookup" => reverse_lookup_host()
                .map_err(|e| format!("reverseLookupHost failed to lookup host: {e}")),
            other => Err(format!(
                "hostname_sources contains invalid value: {other:?}"
            )),
        };
        match r {
            Ok(h) => {
                hostname = Some(h);
                break;
            }
            Err(e) => tracing::debug!(error = %e, "system detector: hostname source failed"),
        }
    }
    let Some(hostname) = hostname else {
        return Err(Error::new(
            ErrorKind::Io,
            "all hostname sources failed to get hostname",
        ));
    };

    let mut d = Detected {
        attrs: Vec::new(),
        schema_url: SCHEMA_1_6_1.to_owned(),
    };
    if on("host.name") {
        d.set_str("host.name", hostname);
    }
    if on("os.type") {
        d.set_str("os.type", os_type(std::env::consts::OS));
    }
    if on("host.id") {
        match host_id() {
            Some(id) => d.set_str("host.id", id),
            None => tracing::warn!("failed to get host ID"),
        }
    }
    if on("host.arch") {
        d.set_str("host.arch", host_arch(std::env::consts::ARCH));
    }
    let up: Vec<&Iface> = ifaces
        .iter()
        .filter(|i| i.flags & libc::IFF_UP as u32 != 0 && i.flags & libc::IFF_LOOPBACK as u32 == 0)
        .collect();
    if on("host.ip") {
        let ips = up
            .iter()
            .flat_map(|i| i.ips.iter())
            .filter(|ip| !ip.is_loopback())
            .map(|ip| Value::Str(ip.to_string()))
            .collect();
        d.set("host.ip", Value::Array(ips));
    }
    if on("host.mac") {
        let macs = up
            .iter()
            .filter(|i| !i.mac.is_empty())
            .map(|i| Value::Str(mac_string(&i.mac)))
            .collect();
        d.set("host.mac", Value::Array(macs));
    }
    if on("host.interface") {
        let names = up.iter().map(|i| Value::Str(i.name.clone())).collect();
        d.set("host.interface", Value::Array(names));
    }
    if let Some(cpu) = cpu {
        let get = |k: &str| cpu.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        if on("host.cpu.vendor.id") {
            d.set_str("host.cpu.vendor.id", get("vendor_id").unwrap_or_default());
        }
        if on("host.cpu.family") {
            d.set_str("host.cpu.family", get("cpu family").unwrap_or_default());
        }
        if on("host.cpu.model.id") {
            // Omitted when empty, as in Go.
            if let Some(m) = get("model").filter(|m| !m.is_empty()) {
                d.set_str("host.cpu.model.id", m);
            }
        }
        if on("host.cpu.model.name") {
            d.set_str("host.cpu.model.name", get("model name").unwrap_or_default());
        }
        if on("host.cpu.stepping") {
            d.set_str("host.cpu.stepping", get("stepping").unwrap_or_default());
        }
        if on("host.cpu.cache.l2.size") {
            // gopsutil's `CacheSize`: the number of `cache size: 512 KB`.
            let kb = get("cache size")
                .and_then(|v| v.split_whitespace().next()?.parse::<i64>().ok())
                .unwrap_or(0);
            d.set("host.cpu.cache.l2.size", Value::Int(kb));
        }
    }
    if on("os.description") {
        d.set_str("os.description", os_description(&os_release));
    }
    let release = |k: &str| {
        os_release
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if on("os.name") {
        d.set_str("os.name", release("NAME"));
    }
    if on("os.version") {
        d.set_str("os.version", release("VERSION_ID"));
    }
    if on("os.build.id") {
        d.set_str(
            "os.build.id",
            uname().map(|u| u.release).unwrap_or_default(),
        );
    }
    Ok(d)
}

/// `runtime.GOOS` mapped as contrib's `GOOSToOSType`, from Rust's OS names.
pub(crate) fn os_type(os: &str) -> String {
    match os {
        "macos" => "darwin".to_owned(),
        "dragonfly" => "dragonflybsd".to_owned(),
        other => other.to_lowercase(),
    }
}

/// `runtime.GOARCH` mapped as contrib's `GOARCHtoHostArch`, from Rust's arch names.
pub(crate) fn host_arch(arch: &str) -> String {
    match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "x86",
        "arm" => "arm32",
        "powerpc64" => "ppc64",
        "powerpc" => "ppc32",
        other => other,
    }
    .to_owned()
}

/// The OS host name (`os.Hostname()`).
pub(crate) fn os_hostname() -> std::io::Result<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    Ok(String::from_utf8_lossy(&buf[..end]).into_owned())
}

/// Showmax/go-fqdn `FqdnHostname`: `/etc/hosts` first, then the resolver's canonical name,
/// then the first IPv4 address that reverse-resolves.
fn fqdn() -> Result<String, String> {
    let host = os_hostname().map_err(|e| e.to_string())?;
    if let Ok(hosts) = std::fs::read_to_string("/etc/hosts")
        && let Some(name) = from_hosts(&hosts, &host)
    {
        return Ok(name);
    }
    if let Ok(c) = canonical_name(&host)
        && !c.is_empty()
    {
        return Ok(c.trim_end_matches('.').to_owned());
    }
    for ip in lookup_host(&host)? {
        if let IpAddr::V4(_) = ip
            && let Ok(name) = reverse(ip)
        {
            return Ok(name.trim_end_matches('.').to_owned());
        }
    }
    Err("fqdn: not found".to_owned())
}

/// go-fqdn's `/etc/hosts` step: on the first line that names `host` (as canonical name or
/// alias), the canonical name (second field), if it is a valid host name.
pub(crate) fn from_hosts(text: &str, host: &str) -> Option<String> {
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 2 || !fields[1..].contains(&host) {
            continue;
        }
        let canonical = fields[1];
        if valid_hostname(canonical) {
            return Some(canonical.to_owned());
        }
    }
    None
}

fn valid_hostname(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 254
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b >= 0x80)
}

/// `net.LookupCNAME(os.Hostname())`, trailing dot trimmed.
fn lookup_cname() -> Result<String, String> {
    let host = os_hostname().map_err(|e| format!("LookupCNAME failed to get hostname: {e}"))?;
    let c = canonical_name(&host).map_err(|e| format!("LookupCNAME failed to get CNAME: {e}"))?;
    Ok(c.trim_end_matches('.').to_owned())
}

/// `net.LookupHost(hostname)`, then the first address whose reverse lookup succeeds.
fn reverse_lookup_host() -> Result<String, String> {
    let host =
        os_hostname().map_err(|e| format!("ReverseLookupHost failed to get hostname: {e}"))?;
    let ips = lookup_host(&host).map_err(|e| {
        format!("hostnameToDomainName failed to convert hostname to IP addresses: {e}")
    })?;
    let mut last = String::from("no addresses");
    for ip in ips {
        match reverse(ip) {
            Ok(name) => return Ok(name.trim_end_matches('.').to_owned()),
            Err(e) => last = e,
        }
    }
    Err(format!(
        "reverseLookup failed to convert IP addresses to name: {last}"
    ))
}

fn gai_error(rc: i32) -> String {
    // SAFETY: gai_strerror returns a pointer to a static, NUL-terminated message.
    let msg = unsafe { CStr::from_ptr(libc::gai_strerror(rc)) };
    msg.to_string_lossy().into_owned()
}

/// The resolver's canonical name for `host` (`getaddrinfo` with `AI_CANONNAME`).
fn canonical_name(host: &str) -> Result<String, String> {
    let c = CString::new(host).map_err(|e| e.to_string())?;
    // SAFETY: all-zero is a valid `addrinfo` (null pointers, zero numbers).
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_flags = libc::AI_CANONNAME;
    hints.ai_family = libc::AF_UNSPEC;
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: valid C string and hints; `res` is freed below.
    let rc = unsafe { libc::getaddrinfo(c.as_ptr(), std::ptr::null(), &hints, &mut res) };
    if rc != 0 {
        return Err(gai_error(rc));
    }
    // SAFETY: on success `res` points to at least one entry; the first carries the
    // canonical name when one was asked for.
    let name = unsafe {
        let first = &*res;
        let n = if first.ai_canonname.is_null() {
            String::new()
        } else {
            CStr::from_ptr(first.ai_canonname)
                .to_string_lossy()
                .into_owned()
        };
        libc::freeaddrinfo(res);
        n
    };
    Ok(name)
}

/// The addresses of `host`, in the resolver's order, without duplicates.
fn lookup_host(host: &str) -> Result<Vec<IpAddr>, String> {
    use std::net::ToSocketAddrs;
    let mut out: Vec<IpAddr> = Vec::new();
    for a in (host, 0u16).to_socket_addrs().map_err(|e| e.to_string())? {
        if !out.contains(&a.ip()) {
            out.push(a.ip());
        }
    }
    Ok(out)
}

/// The name of an address (`getnameinfo` with `NI_NAMEREQD`: an error when there is none).
fn reverse(ip: IpAddr) -> Result<String, String> {
    let mut host = [0 as libc::c_char; 1025];
    let rc = match ip {
        IpAddr::V4(v4) => {
            // SAFETY: all-zero is a valid `sockaddr_in`.
            let mut sin: libc::sockaddr_in = unsafe { std::mem::zeroed() };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_addr = libc::in_addr {
                s_addr: u32::from_ne_bytes(v4.octets()),
            };
            // SAFETY: the address and buffer are valid for the lengths given.
            unsafe {
                libc::getnameinfo(
                    (&raw const sin).cast(),
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                    host.as_mut_ptr(),
                    host.len() as libc::socklen_t,
                    std::ptr::null_mut(),
                    0,
                    libc::NI_NAMEREQD,
                )
            }
        }
        IpAddr::V6(v6) => {
            // SAFETY: all-zero is a valid `sockaddr_in6`.
            let mut sin6: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_addr = libc::in6_addr {
                s6_addr: v6.octets(),
            };
            // SAFETY: as above.
            unsafe {
                libc::getnameinfo(
                    (&raw const sin6).cast(),
                    std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                    host.as_mut_ptr(),
                    host.len() as libc::socklen_t,
                    std::ptr::null_mut(),
                    0,
                    libc::NI_NAMEREQD,
                )
            }
        }
    };
    if rc != 0 {
        return Err(gai_error(rc));
    }
    // SAFETY: getnameinfo wrote a NUL-terminated name into the buffer.
    let name = unsafe { CStr::from_ptr(host.as_ptr()) };
    Ok(name.to_string_lossy().into_owned())
}

/// A network interface: name, flags, addresses and hardware address, in index order.
#[derive(Debug, Default)]
struct Iface {
    name: String,
    flags: u32,
    ips: Vec<IpAddr>,
    mac: Vec<u8>,
}

fn interfaces() -> std::io::Result<Vec<Iface>> {
    let mut ifap: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `ifap` with a list freed below.
    if unsafe { libc::getifaddrs(&mut ifap) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut out: Vec<Iface> = Vec::new();
    let mut cur = ifap;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned, alive until freed.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: a non-null interface name is a NUL-terminated string.
        let name = unsafe { CStr::from_ptr(ifa.ifa_name) }
            .to_string_lossy()
            .into_owned();
        let i = match out.iter().position(|i| i.name == name) {
            Some(i) => i,
            None => {
                out.push(Iface {
                    name,
                    flags: ifa.ifa_flags,
                    ..Iface::default()
                });
                out.len() - 1
            }
        };
        if ifa.ifa_addr.is_null() {
            continue;
        }
        // SAFETY: a non-null address starts with its family; the casts below follow it.
        let family = i32::from(unsafe { (*ifa.ifa_addr).sa_family });
        match family {
            libc::AF_INET => {
                // SAFETY: AF_INET addresses are `sockaddr_in`.
                let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
                out[i].ips.push(IpAddr::V4(Ipv4Addr::from(
                    sin.sin_addr.s_addr.to_ne_bytes(),
                )));
            }
            libc::AF_INET6 => {
                // SAFETY: AF_INET6 addresses are `sockaddr_in6`.
                let sin6 = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in6) };
                out[i]
                    .ips
                    .push(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)));
            }
            #[cfg(target_os = "linux")]
            libc::AF_PACKET => {
                // SAFETY: AF_PACKET addresses are `sockaddr_ll`.
                let sll = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_ll) };
                let n = usize::from(sll.sll_halen).min(sll.sll_addr.len());
                out[i].mac = sll.sll_addr[..n].to_vec();
            }
            _ => {}
        }
    }
    // SAFETY: the list came from getifaddrs and is not used after this.
    unsafe { libc::freeifaddrs(ifap) };
    Ok(out)
}

/// Go's `HardwareAddr.String()` upper-cased with dashes (IEEE RA form `AA-BB-...`).
pub(crate) fn mac_string(mac: &[u8]) -> String {
    mac.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join("-")
}

/// `/etc/machine-id`, else `/var/lib/dbus/machine-id` (otel-go `WithHostID` on Linux).
fn host_id() -> Option<String> {
    ["/etc/machine-id", "/var/lib/dbus/machine-id"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_owned())
        .find(|s| !s.is_empty())
}

/// The first processor's `key: value` lines of `/proc/cpuinfo`.
pub(crate) fn cpuinfo(text: &str) -> Vec<(String, String)> {
    text.lines()
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect()
}

/// `/etc/os-release` as otel-go parses it: `KEY=value`, quotes and escapes removed.
pub(crate) fn parse_os_release(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let mut v = v.trim();
        if v.len() >= 2
            && (v.starts_with('"') || v.starts_with('\''))
            && v.as_bytes()[0] == v.as_bytes()[v.len() - 1]
        {
            v = &v[1..v.len() - 1];
        }
        let v = v
            .replace("\\$", "$")
            .replace("\\\"", "\"")
            .replace("\\'", "'")
            .replace("\\\\", "\\")
            .replace("\\`", "`");
        let k = k.trim().to_owned();
        match out.iter_mut().find(|(n, _)| *n == k) {
            Some(slot) => slot.1 = v,
            None => out.push((k, v)),
        }
    }
    out
}

/// otel-go's `platformOSDescription` on Unix: `<NAME VERSION> (<uname -snrvm>)`, falling
/// back to `PRETTY_NAME`, or the uname string alone.
pub(crate) fn os_description(os_release: &[(String, String)]) -> String {
    let get = |k: &str| {
        os_release
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let name = get("NAME");
    let version = match get("VERSION") {
        "" => get("VERSION_ID"),
        v => v,
    };
    let release = if !name.is_empty() && !version.is_empty() {
        format!("{name} {version}")
    } else {
        get("PRETTY_NAME").to_owned()
    };
    let uname = uname()
        .map(|u| {
            format!(
                "{} {} {} {} {}",
                u.sysname, u.nodename, u.release, u.version, u.machine
            )
        })
        .unwrap_or_default();
    if release.is_empty() {
        uname
    } else {
        format!("{release} ({uname})")
    }
}

struct Uname {
    sysname: String,
    nodename: String,
    release: String,
    version: String,
    machine: String,
}

fn uname() -> Option<Uname> {
    // SAFETY: all-zero is a valid `utsname`; uname fills it with NUL-terminated fields.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return None;
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    Some(Uname {
        sysname: field(&u.sysname),
        nodename: field(&u.nodename),
        release: field(&u.release),
        version: field(&u.version),
        machine: field(&u.machine),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::processors::resourcedetection::AttributeToggle;

    #[test]
    fn os_and_arch_names_as_go() {
        assert_eq!(os_type("linux"), "linux");
        assert_eq!(os_type("macos"), "darwin");
        assert_eq!(os_type("dragonfly"), "dragonflybsd");
        assert_eq!(host_arch("x86_64"), "amd64");
        assert_eq!(host_arch("aarch64"), "arm64");
        assert_eq!(host_arch("x86"), "x86");
        assert_eq!(host_arch("arm"), "arm32");
        assert_eq!(host_arch("s390x"), "s390x");
    }

    #[test]
    fn etc_hosts_as_go_fqdn_reads_it() {
        let hosts = "127.0.0.1 localhost\n\
                     # 10.0.0.1 myhost.commented myhost\n\
                     10.0.0.2 myhost.example.com myhost # trailing comment\n\
                     10.0.0.3 other.example.com myhost\n";
        assert_eq!(
            from_hosts(hosts, "myhost").as_deref(),
            Some("myhost.example.com")
        );
        // The canonical name itself matches too.
        assert_eq!(
            from_hosts(hosts, "other.example.com").as_deref(),
            Some("other.example.com")
        );
        assert_eq!(from_hosts(hosts, "nobody"), None);
        // An invalid canonical name is skipped.
        assert_eq!(
            from_hosts("10.0.0.1 bad_name myhost\n10.0.0.2 good myhost", "myhost").as_deref(),
            Some("good")
        );
    }

    #[test]
    fn mac_cpuinfo_and_os_release_parsing() {
        assert_eq!(
            mac_string(&[0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f]),
            "0A-1B-2C-3D-4E-5F"
        );
        let cpu = cpuinfo(
            "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n\
             model name\t: Intel(R) Xeon(R)\nstepping\t: 7\ncache size\t: 36608 KB\n\n\
             processor\t: 1\nvendor_id\t: Other\n",
        );
        let get = |k: &str| cpu.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("vendor_id"), Some("GenuineIntel"));
        assert_eq!(get("cache size"), Some("36608 KB"));
        let rel = parse_os_release(
            "NAME=\"Amazon Linux\"\nVERSION='2023'\n# c\nID=amzn\nPRETTY_NAME=\"Amazon \\\"Linux\\\"\"\n",
        );
        assert_eq!(rel[0], ("NAME".to_owned(), "Amazon Linux".to_owned()));
        assert_eq!(rel[1], ("VERSION".to_owned(), "2023".to_owned()));
        assert_eq!(rel[3].1, "Amazon \"Linux\"");
        assert!(os_description(&rel).starts_with("Amazon Linux 2023 ("));
    }

    #[test]
    fn detects_with_the_os_source_and_toggles() {
        let mut cfg = SystemDetectorConfig {
            hostname_sources: vec!["os".to_owned()],
            ..Default::default()
        };
        let d = detect(&cfg).unwrap();
        let host = os_hostname().unwrap();
        assert_eq!(
            d.attrs,
            vec![
                ("host.name".to_owned(), Value::Str(host)),
                (
                    "os.type".to_owned(),
                    Value::Str(std::env::consts::OS.to_owned())
                ),
            ]
        );
        assert_eq!(d.schema_url, SCHEMA_1_6_1);
        for (name, on) in [
            ("host.name", false),
            ("host.arch", true),
            ("host.ip", true),
            ("host.interface", true),
            ("os.description", true),
        ] {
            cfg.resource_attributes
                .insert(name.to_owned(), AttributeToggle { enabled: on });
        }
        let d = detect(&cfg).unwrap();
        assert!(d.get("host.name").is_none());
        assert_eq!(
            d.get("host.arch"),
            Some(&Value::Str(host_arch(std::env::consts::ARCH)))
        );
        assert!(matches!(d.get("host.ip"), Some(Value::Array(_))));
        assert!(matches!(d.get("host.interface"), Some(Value::Array(_))));
        match d.get("os.description") {
            Some(Value::Str(s)) => assert!(!s.is_empty()),
            other => panic!("{other:?}"),
        }
    }
}
