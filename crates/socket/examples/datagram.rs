//! Datagram sockets: a request and an answer on loopback, and what happens to a
//! datagram longer than the buffer.
//!
//! `cargo run -p sockarc-socket --example datagram`

use std::time::Duration;

use sockarc::DatagramSocket;

fn main() -> std::io::Result<()> {
    let loopback = [127, 0, 0, 1].into();
    let server = DatagramSocket::builder()
        .address(loopback)
        .create_datagram()?;
    let client = DatagramSocket::builder()
        .address(loopback)
        .create_datagram()?;
    for socket in [&server, &client] {
        socket.set_read_timeout(Some(Duration::from_secs(5)));
    }

    client.send_to(b"what time is it?", server.local_addr()?)?;
    let mut buf = [0u8; 64];
    let request = server.receive_from(&mut buf)?;
    println!(
        "server: {:?} from {}",
        String::from_utf8_lossy(&buf[..request.len]),
        request.from
    );
    server.send_to(b"time to read the MFC docs", request.from)?;

    let mut small = [0u8; 8];
    let answer = client.receive_from(&mut small)?;
    println!(
        "client: {:?} ({} bytes kept, truncated: {})",
        String::from_utf8_lossy(&small[..answer.len]),
        answer.len,
        answer.truncated
    );
    Ok(())
}
