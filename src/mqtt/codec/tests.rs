use super::*;

fn qos_all() -> [QoS; 3] {
    [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]
}

fn every_packet() -> Vec<Packet> {
    let mut connect = Connect::new("sensor-1");
    connect.keep_alive = 60;
    connect.clean_session = false;
    connect.set_login(
        "hub.azure-devices.net/sensor-1/?api-version=2021-04-12",
        "SharedAccessSignature sr=x",
    );
    let mut with_will = Connect::new("w");
    with_will.last_will = Some(LastWill {
        topic: "last/words".into(),
        message: b"gone".to_vec(),
        qos: QoS::AtLeastOnce,
        retain: true,
    });
    let mut x509 = Connect::new("x509-device");
    x509.set_login("hub/x509-device/?api-version=2021-04-12", "");
    let mut publish1 = Publish::new(
        "devices/d/messages/events/",
        QoS::AtLeastOnce,
        b"{}".to_vec(),
    );
    publish1.pkid = 7;
    let mut publish2 = Publish::new("a/b", QoS::ExactlyOnce, Vec::new());
    publish2.pkid = 65_535;
    publish2.dup = true;
    publish2.retain = true;
    let mut subscribe = Subscribe::new("devices/d/messages/devicebound/#", QoS::AtLeastOnce);
    subscribe.pkid = 2;
    subscribe.filters.push(SubscribeFilter {
        path: "$iothub/twin/res/#".into(),
        qos: QoS::AtMostOnce,
    });
    let mut unsubscribe = Unsubscribe::new("$dps/registrations/res/#");
    unsubscribe.pkid = 3;
    let mut packets = vec![
        Packet::Connect(Connect::new("")),
        Packet::Connect(connect),
        Packet::Connect(with_will),
        Packet::Connect(x509),
        Packet::Publish(Publish::new("t", QoS::AtMostOnce, b"hello".to_vec())),
        Packet::Publish(publish1),
        Packet::Publish(publish2),
        Packet::PubAck(PubAck::new(1)),
        Packet::PubRec(PubRec::new(2)),
        Packet::PubRel(PubRel::new(3)),
        Packet::PubComp(PubComp::new(4)),
        Packet::Subscribe(subscribe),
        Packet::SubAck(SubAck::new(
            2,
            vec![
                SubscribeReasonCode::Success(QoS::AtLeastOnce),
                SubscribeReasonCode::Failure,
                SubscribeReasonCode::Success(QoS::AtMostOnce),
                SubscribeReasonCode::Success(QoS::ExactlyOnce),
            ],
        )),
        Packet::Unsubscribe(unsubscribe),
        Packet::UnsubAck(UnsubAck::new(3)),
        Packet::PingReq,
        Packet::PingResp,
        Packet::Disconnect,
    ];
    for (i, code) in [
        ConnectReturnCode::Success,
        ConnectReturnCode::RefusedProtocolVersion,
        ConnectReturnCode::BadClientId,
        ConnectReturnCode::ServiceUnavailable,
        ConnectReturnCode::BadUserNamePassword,
        ConnectReturnCode::NotAuthorized,
    ]
    .into_iter()
    .enumerate()
    {
        packets.push(Packet::ConnAck(ConnAck::new(code, i == 0)));
    }
    packets
}

/// Reading back what was written gives the same packet and takes every byte.
#[test]
fn every_packet_round_trips() {
    for packet in every_packet() {
        let bytes = encode(&packet).expect("encodes");
        assert_eq!(
            read(&bytes, usize::MAX),
            Ok(Some((packet.clone(), bytes.len()))),
            "{packet:?}"
        );
        // Followed by more bytes, only its own are taken.
        let mut more = BytesMut::from(&bytes[..]);
        more.extend_from_slice(&[0xC0, 0x00]);
        assert_eq!(read_from(&mut more, usize::MAX), Ok(Some(packet)));
        assert_eq!(&more[..], &[0xC0, 0x00]);
    }
}

#[test]
fn a_packet_delivered_a_byte_at_a_time_waits_for_its_last_byte() {
    let mut stream = Vec::new();
    for packet in every_packet() {
        stream.extend(encode(&packet).expect("encodes"));
    }
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for &b in &stream {
        buf.extend_from_slice(&[b]);
        while let Some(p) = read_from(&mut buf, 1024).expect("valid") {
            got.push(p);
        }
    }
    assert!(buf.is_empty());
    assert_eq!(got, every_packet());
    // Every proper prefix of a packet is incomplete, never an error.
    for packet in every_packet() {
        let bytes = encode(&packet).expect("encodes");
        for n in 0..bytes.len() {
            assert_eq!(read(&bytes[..n], usize::MAX), Ok(None), "{packet:?} {n}");
        }
    }
}

/// The examples of the MQTT 3.1.1 specification, byte for byte.
#[test]
fn encodings_are_the_specifications_examples() {
    // 3.1.2.10, Figure 3.6: protocol name, level 4, flags 0xCE (user name, password, will QoS 1,
    // will, clean session), keep-alive 10.
    let mut c = Connect::new("");
    c.last_will = Some(LastWill {
        topic: "w".into(),
        message: Vec::new(),
        qos: QoS::AtLeastOnce,
        retain: false,
    });
    c.set_login("u", "p");
    let bytes = encode(&Packet::Connect(c)).expect("encodes");
    assert_eq!(
        &bytes[..12],
        &[0x10, bytes[1], 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0xCE, 0x00, 0x0A]
    );
    // 3.3.2.3, Figure 3.11: topic "a/b", packet identifier 10.
    let mut p = Publish::new("a/b", QoS::AtLeastOnce, Vec::new());
    p.pkid = 10;
    assert_eq!(
        encode(&Packet::Publish(p)).expect("encodes"),
        [0x32, 0x07, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x0A]
    );
    // 3.4, 3.11: PUBACK and UNSUBACK.
    assert_eq!(
        encode(&Packet::PubAck(PubAck::new(10))).unwrap(),
        [0x40, 0x02, 0x00, 0x0A]
    );
    assert_eq!(
        encode(&Packet::UnsubAck(UnsubAck::new(10))).unwrap(),
        [0xB0, 0x02, 0x00, 0x0A]
    );
    // 3.6.1: PUBREL's flags are 0010.
    assert_eq!(
        encode(&Packet::PubRel(PubRel::new(10))).unwrap(),
        [0x62, 0x02, 0x00, 0x0A]
    );
    // 3.8.2.1 and 3.8.3.1, Figures 3.21 and 3.23: packet identifier 10, "a/b" at QoS 1, "c/d" at
    // QoS 2.
    let mut s = Subscribe::new("a/b", QoS::AtLeastOnce);
    s.pkid = 10;
    s.filters.push(SubscribeFilter {
        path: "c/d".into(),
        qos: QoS::ExactlyOnce,
    });
    assert_eq!(
        encode(&Packet::Subscribe(s)).unwrap(),
        [
            0x82, 0x0E, 0x00, 0x0A, 0x00, 0x03, b'a', b'/', b'b', 0x01, 0x00, 0x03, b'c', b'/',
            b'd', 0x02
        ]
    );
    // 3.9.3.1, Figure 3.26: granted QoS 0, granted QoS 2, failure.
    let a = SubAck::new(
        10,
        vec![
            SubscribeReasonCode::Success(QoS::AtMostOnce),
            SubscribeReasonCode::Success(QoS::ExactlyOnce),
            SubscribeReasonCode::Failure,
        ],
    );
    assert_eq!(
        encode(&Packet::SubAck(a)).unwrap(),
        [0x90, 0x05, 0x00, 0x0A, 0x00, 0x02, 0x80]
    );
    // 3.10.3.1, Figure 3.30: "a/b" and "c/d".
    let mut u = Unsubscribe::new("a/b");
    u.pkid = 10;
    u.topics.push("c/d".into());
    assert_eq!(
        encode(&Packet::Unsubscribe(u)).unwrap(),
        [0xA2, 0x0C, 0x00, 0x0A, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x03, b'c', b'/', b'd']
    );
    // 3.2, 3.12, 3.13, 3.14.
    assert_eq!(
        encode(&Packet::ConnAck(ConnAck::new(
            ConnectReturnCode::Success,
            true
        )))
        .unwrap(),
        [0x20, 0x02, 0x01, 0x00]
    );
    assert_eq!(encode(&Packet::PingReq).unwrap(), [0xC0, 0x00]);
    assert_eq!(encode(&Packet::PingResp).unwrap(), [0xD0, 0x00]);
    assert_eq!(encode(&Packet::Disconnect).unwrap(), [0xE0, 0x00]);
    // 1.5.3.1, Figure 1.3: "A\u{2A6D4}" as 00 05 41 F0 AA 9B 94.
    let p = Publish::new("A\u{2A6D4}", QoS::AtMostOnce, Vec::new());
    assert_eq!(
        encode(&Packet::Publish(p)).unwrap(),
        [0x30, 0x07, 0x00, 0x05, 0x41, 0xF0, 0xAA, 0x9B, 0x94]
    );
}

/// 2.2.3, Table 2.4: the remaining length's boundaries, written and read.
#[test]
fn remaining_lengths_are_the_specifications_table() {
    let cases: [(usize, &[u8]); 7] = [
        (0, &[0x00]),
        (127, &[0x7F]),
        (128, &[0x80, 0x01]),
        (16_383, &[0xFF, 0x7F]),
        (16_384, &[0x80, 0x80, 0x01]),
        (2_097_151, &[0xFF, 0xFF, 0x7F]),
        (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
    ];
    for (len, header) in cases {
        if len == 0 {
            assert_eq!(encode(&Packet::PingReq).unwrap()[1..], *header);
            continue;
        }
        // Topic "t" (3 bytes), then the payload.
        let p = Publish::new("t", QoS::AtMostOnce, vec![0u8; len - 3]);
        let bytes = encode(&Packet::Publish(p.clone())).expect("encodes");
        assert_eq!(&bytes[1..=header.len()], header, "{len}");
        assert_eq!(bytes.len(), 1 + header.len() + len);
        assert_eq!(
            read(&bytes, usize::MAX),
            Ok(Some((Packet::Publish(p), bytes.len())))
        );
    }
    // The largest there is, read from its header alone (nothing allocated).
    assert_eq!(
        read(&[0x30, 0xFF, 0xFF, 0xFF, 0x7F], 1 << 20),
        Err(CodecError::TooLarge {
            size: 5 + MAX_REMAINING_LENGTH,
            max: 1 << 20
        })
    );
    assert_eq!(read(&[0x30, 0xFF, 0xFF, 0xFF, 0x7F], usize::MAX), Ok(None));
}

#[test]
fn the_size_limit_counts_the_whole_packet_and_applies_before_the_body_arrives() {
    let p = Packet::Publish(Publish::new("t", QoS::AtMostOnce, vec![1u8; 100]));
    let bytes = encode(&p).unwrap();
    assert_eq!(bytes.len(), 105);
    assert_eq!(read(&bytes, 105), Ok(Some((p, 105))));
    // Only the fixed header has come.
    assert_eq!(
        read(&bytes[..2], 104),
        Err(CodecError::TooLarge {
            size: 105,
            max: 104
        })
    );
}

#[test]
fn malformed_packets_are_refused_with_their_reason() {
    use CodecError as E;
    let cases: Vec<(&[u8], CodecError)> = vec![
        // 2.2.3: a fifth remaining-length byte.
        (&[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], E::RemainingLength),
        (&[0x30, 0x80, 0x80, 0x80, 0x80], E::RemainingLength),
        // 2.2.1: reserved types, known from the first byte.
        (&[0x00], E::PacketType(0)),
        (&[0xF0, 0x00], E::PacketType(15)),
        // 2.2.2: flags.
        (
            &[0x80, 0x05, 0x00, 0x01, 0x00, 0x01, b'a'],
            E::Flags {
                packet_type: 8,
                flags: 0,
            },
        ),
        (
            &[0xA0],
            E::Flags {
                packet_type: 10,
                flags: 0,
            },
        ),
        (
            &[0x60, 0x02, 0x00, 0x01],
            E::Flags {
                packet_type: 6,
                flags: 0,
            },
        ),
        (
            &[0x41, 0x02, 0x00, 0x01],
            E::Flags {
                packet_type: 4,
                flags: 1,
            },
        ),
        (
            &[0xC8, 0x00],
            E::Flags {
                packet_type: 12,
                flags: 8,
            },
        ),
        (
            &[0x12],
            E::Flags {
                packet_type: 1,
                flags: 2,
            },
        ),
        // 3.3.1.2: PUBLISH at QoS 3.
        (&[0x36], E::QoS(3)),
        // Fields past the remaining length.
        (&[0x40, 0x01, 0x00], E::Truncated),
        (&[0x40, 0x00], E::Truncated),
        (&[0x30, 0x03, 0x00, 0x05, b'a'], E::Truncated),
        (&[0x32, 0x03, 0x00, 0x01, b'a'], E::Truncated),
        // Bytes after the last field.
        (&[0x20, 0x03, 0x00, 0x00, 0x00], E::TrailingBytes(1)),
        (&[0xC0, 0x01, 0x00], E::TrailingBytes(1)),
        (&[0x40, 0x04, 0x00, 0x01, 0x00, 0x00], E::TrailingBytes(2)),
        // 1.5.3: not UTF-8, a lone surrogate, U+0000.
        (&[0x30, 0x04, 0x00, 0x02, 0xC3, 0x28], E::Utf8),
        (&[0x30, 0x05, 0x00, 0x03, 0xED, 0xA0, 0x80], E::Utf8),
        (&[0x30, 0x03, 0x00, 0x01, 0x00], E::Utf8),
        // 4.7.3 and 3.3.2.1: an empty topic, a wildcard in a topic name.
        (&[0x30, 0x02, 0x00, 0x00], E::EmptyTopic),
        (&[0x30, 0x03, 0x00, 0x01, b'#'], E::TopicWildcard),
        (
            &[0x30, 0x05, 0x00, 0x03, b'a', b'/', b'+'],
            E::TopicWildcard,
        ),
        // 2.3.1: packet identifier 0.
        (&[0x32, 0x05, 0x00, 0x01, b'a', 0x00, 0x00], E::PacketIdZero),
        (&[0x40, 0x02, 0x00, 0x00], E::PacketIdZero),
        (
            &[0x82, 0x06, 0x00, 0x00, 0x00, 0x01, b'a', 0x00],
            E::PacketIdZero,
        ),
        // CONNACK: reserved flags, unknown code.
        (&[0x20, 0x02, 0x02, 0x00], E::ConnAckFlags(2)),
        (&[0x20, 0x02, 0x00, 0x06], E::ReturnCode(6)),
        // SUBSCRIBE: none, reserved bits, QoS 3, an empty filter.
        (&[0x82, 0x02, 0x00, 0x01], E::Empty),
        (
            &[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x04],
            E::SubscribeOptions(4),
        ),
        (&[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x03], E::QoS(3)),
        (&[0x82, 0x05, 0x00, 0x01, 0x00, 0x00, 0x01], E::EmptyTopic),
        (&[0x82, 0x05, 0x00, 0x01, 0x00, 0x01, b'a'], E::Truncated),
        // SUBACK: none, unknown code. UNSUBSCRIBE: none.
        (&[0x90, 0x02, 0x00, 0x01], E::Empty),
        (&[0x90, 0x03, 0x00, 0x01, 0x03], E::SubAckCode(3)),
        (&[0xA2, 0x02, 0x00, 0x01], E::Empty),
    ];
    for (bytes, want) in cases {
        assert_eq!(read(bytes, 1024), Err(want.clone()), "{bytes:02X?}");
        assert!(!want.to_string().is_empty());
    }
}

fn connect_bytes(level: u8, flags: u8, rest: &[u8]) -> Vec<u8> {
    let mut body = vec![0x00, 0x04, b'M', b'Q', b'T', b'T', level, flags, 0x00, 0x3C];
    body.extend_from_slice(rest);
    let mut out = vec![0x10, body.len() as u8];
    out.extend(body);
    out
}

#[test]
fn connect_is_checked_as_3_1_2_says() {
    use CodecError as E;
    let id: &[u8] = &[0x00, 0x01, b'd'];
    // Accepted: the smallest, and a user name with an empty password.
    assert!(matches!(
        read(&connect_bytes(4, 0x02, id), 64),
        Ok(Some((Packet::Connect(_), _)))
    ));
    let with_user = [id, &[0x00, 0x01, b'u', 0x00, 0x00]].concat();
    let Ok(Some((Packet::Connect(c), _))) = read(&connect_bytes(4, 0xC0, &with_user), 64) else {
        panic!("user name and empty password");
    };
    assert_eq!(
        c.login.as_ref().map(|l| (&l.username[..], &l.password[..])),
        Some(("u", ""))
    );
    assert!(!c.clean_session);
    assert_eq!(c.keep_alive, 60);
    // MQTT 3.1 ("MQIsdp", level 3) and MQTT 5 are not MQTT 3.1.1.
    let mut v31 = vec![0x10, 0x0F, 0x00, 0x06];
    v31.extend_from_slice(b"MQIsdp");
    v31.extend_from_slice(&[0x03, 0x02, 0x00, 0x3C, 0x00, 0x01, b'd']);
    assert_eq!(read(&v31, 64), Err(E::ProtocolName));
    assert_eq!(
        read(&connect_bytes(5, 0x02, id), 64),
        Err(E::ProtocolLevel(5))
    );
    assert_eq!(
        read(&connect_bytes(3, 0x02, id), 64),
        Err(E::ProtocolLevel(3))
    );
    // The reserved bit; will QoS or retain without a will; a password without a user name.
    for flags in [0x03, 0x08, 0x20, 0x40] {
        assert_eq!(
            read(&connect_bytes(4, flags, id), 64),
            Err(E::ConnectFlags(flags)),
            "{flags:#04x}"
        );
    }
    // A will at QoS 3.
    let will = [id, &[0x00, 0x01, b'w', 0x00, 0x00]].concat();
    assert_eq!(read(&connect_bytes(4, 0x1C, &will), 64), Err(E::QoS(3)));
    let Ok(Some((Packet::Connect(c), _))) = read(&connect_bytes(4, 0x2C, &will), 64) else {
        panic!("will at QoS 1, retained");
    };
    assert_eq!(
        c.last_will,
        Some(LastWill {
            topic: "w".into(),
            message: Vec::new(),
            qos: QoS::AtLeastOnce,
            retain: true
        })
    );
    // A will flag without its fields; a client id past the end; a password that is not UTF-8.
    assert_eq!(read(&connect_bytes(4, 0x04, id), 64), Err(E::Truncated));
    assert_eq!(
        read(&connect_bytes(4, 0x02, &[0x00, 0x09, b'd']), 64),
        Err(E::Truncated)
    );
    let bad_password = [id, &[0x00, 0x01, b'u', 0x00, 0x01, 0xFF]].concat();
    assert_eq!(
        read(&connect_bytes(4, 0xC0, &bad_password), 64),
        Err(E::Utf8)
    );
    // The password is never printed.
    let mut c = Connect::new("d");
    c.set_login("u", "SharedAccessSignature sig=secret");
    assert!(!format!("{c:?}").contains("secret"));
}

#[test]
fn what_cannot_be_written_is_refused_and_nothing_is_appended() {
    use CodecError as E;
    let long = "a".repeat(65_536);
    let mut unsub = Unsubscribe::new("a");
    unsub.pkid = 1;
    unsub.topics.clear();
    let cases = [
        (
            Packet::Publish(Publish::new(long.clone(), QoS::AtMostOnce, Vec::new())),
            E::FieldTooLong(65_536),
        ),
        (Packet::Connect(Connect::new(long)), E::FieldTooLong(65_536)),
        (
            Packet::Publish(Publish::new("a", QoS::AtLeastOnce, Vec::new())),
            E::PacketIdZero,
        ),
        (
            Packet::Publish(Publish::new("a/#", QoS::AtMostOnce, Vec::new())),
            E::TopicWildcard,
        ),
        (
            Packet::Publish(Publish::new("", QoS::AtMostOnce, Vec::new())),
            E::EmptyTopic,
        ),
        (
            Packet::Publish(Publish::new("a\0", QoS::AtMostOnce, Vec::new())),
            E::Utf8,
        ),
        (
            Packet::Subscribe(Subscribe::new("a", QoS::AtMostOnce)),
            E::PacketIdZero,
        ),
        (Packet::SubAck(SubAck::new(1, Vec::new())), E::Empty),
        (Packet::Unsubscribe(unsub), E::Empty),
        (Packet::PubAck(PubAck::new(0)), E::PacketIdZero),
    ];
    for (packet, want) in cases {
        let mut out = BytesMut::from(&b"kept"[..]);
        assert_eq!(write(&packet, &mut out), Err(want));
        assert_eq!(&out[..], b"kept");
    }
    // 65,535 bytes is the most a string holds.
    let p = Publish::new("a".repeat(65_535), QoS::AtMostOnce, Vec::new());
    let bytes = encode(&Packet::Publish(p.clone())).expect("encodes");
    assert_eq!(
        read(&bytes, usize::MAX),
        Ok(Some((Packet::Publish(p), bytes.len())))
    );
}

#[test]
fn a_password_is_never_sent_without_a_user_name() {
    // 3.1.2.9: with a password but an empty user name, the user name is sent, empty.
    let mut c = Connect::new("d");
    c.set_login("", "p");
    let bytes = encode(&Packet::Connect(c.clone())).unwrap();
    assert_eq!(bytes[9], 0xC2);
    assert_eq!(&bytes[bytes.len() - 5..], &[0x00, 0x00, 0x00, 0x01, b'p']);
    assert_eq!(
        read(&bytes, 64),
        Ok(Some((Packet::Connect(c), bytes.len())))
    );
    // A login with both empty sends an empty user name, and reads back as sent.
    let mut c = Connect::new("d");
    c.set_login("", "");
    let bytes = encode(&Packet::Connect(c.clone())).unwrap();
    assert_eq!(bytes[9], 0x82);
    assert_eq!(
        read(&bytes, 64),
        Ok(Some((Packet::Connect(c), bytes.len())))
    );
    // Without a login, neither flag.
    assert_eq!(
        encode(&Packet::Connect(Connect::new("d"))).unwrap()[9],
        0x02
    );
}

/// Arbitrary bytes never panic the reader, and what it reads it writes back the same.
#[test]
fn arbitrary_bytes_are_read_or_refused_never_a_panic() {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let valid: Vec<Vec<u8>> = every_packet().iter().map(|p| encode(p).unwrap()).collect();
    for round in 0..20_000 {
        let mut bytes = valid[round % valid.len()].clone();
        for _ in 0..(next() % 4) {
            let at = (next() as usize) % bytes.len();
            bytes[at] = next() as u8;
        }
        if let Ok(Some((packet, used))) = read(&bytes, 4096) {
            let again = encode(&packet).expect("what was read can be written");
            assert_eq!(read(&again, 4096), Ok(Some((packet, again.len()))));
            assert!(used <= bytes.len());
        }
    }
    // Every single-byte change of every packet's first 64 bytes, plus an empty-user-name login.
    let mut empty_user = Connect::new("d");
    empty_user.set_login("", "");
    let mut all = valid.clone();
    all.push(encode(&Packet::Connect(empty_user)).unwrap());
    for bytes in all {
        for at in 0..bytes.len().min(64) {
            for value in 0..=255u8 {
                let mut changed = bytes.clone();
                changed[at] = value;
                if let Ok(Some((packet, _))) = read(&changed, 4096) {
                    let again = encode(&packet).expect("what was read can be written");
                    assert_eq!(
                        read(&again, 4096),
                        Ok(Some((packet, again.len()))),
                        "{changed:02X?}"
                    );
                }
            }
        }
    }
    for qos in qos_all() {
        let _ = read(&[0x30 | (qos_bits(qos) << 1), 0x00], 16);
    }
}

/// What `mqttbytes` 0.6, the codec this one replaced, wrote for each of [`every_packet`], checked
/// byte for byte while both were dependencies: the same bytes are written and read back.
/// (Where they differed, this codec follows the specification: mqttbytes wrote a password
/// without a user name, which 3.1.2.9 forbids, and a 65,536-byte string with its length cut to
/// 16 bits; see `a_password_is_never_sent_without_a_user_name` and
/// `what_cannot_be_written_is_refused_and_nothing_is_appended`.)
#[test]
fn the_same_bytes_as_mqttbytes_wrote() {
    let golden = [
        "100c00044d5154540402000a0000",
        "106800044d51545404c0003c000873656e736f722d3100366875622e617a7572652d646576696365732e6e65742f73656e736f722d312f3f6170692d76657273696f6e3d323032312d30342d3132001a5368617265644163636573735369676e61747572652073723d78",
        "101f00044d515454042e000a000177000a6c6173742f776f7264730004676f6e65",
        "104000044d5154540482000a000b783530392d64657669636500276875622f783530392d6465766963652f3f6170692d76657273696f6e3d323032312d30342d3132",
        "300800017468656c6c6f",
        "3220001a646576696365732f642f6d657373616765732f6576656e74732f00077b7d",
        "3d070003612f62ffff",
        "40020001",
        "50020002",
        "62020003",
        "70020004",
        "823a00020020646576696365732f642f6d657373616765732f646576696365626f756e642f2301001224696f746875622f7477696e2f7265732f2300",
        "9006000201800002",
        "a21c00030018246470732f726567697374726174696f6e732f7265732f23",
        "b0020003",
        "c000",
        "d000",
        "e000",
        "20020100",
        "20020001",
        "20020002",
        "20020003",
        "20020004",
        "20020005",
    ];
    let packets = every_packet();
    assert_eq!(packets.len(), golden.len());
    for (packet, hex) in packets.into_iter().zip(golden) {
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect();
        assert_eq!(encode(&packet).unwrap(), bytes, "{packet:?}");
        assert_eq!(read(&bytes, usize::MAX), Ok(Some((packet, bytes.len()))));
    }
}
