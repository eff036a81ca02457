//! Scan setup as a sans-IO state machine: one HCI command at a time, advancing on its Command
//! Complete (or a failing Command Status). No I/O and no clock: the event loop calls
//! [`ScanSetup::poll_command`] to get the next command to send, feeds every HCI event to
//! [`ScanSetup::handle_event`], and arms a timer for [`ScanSetup::poll_timeout`].
//!
//! Sequence (each step waits for its reply):
//! 1. Reset (optional: H4 transports, never on the kernel-shared raw socket),
//! 2. Read Local Supported Commands, LE Read Local Supported Features,
//! 3. Set Event Mask + LE Set Event Mask (optional: the kernel sets them on a raw socket),
//! 4. LE Set (Extended) Scan Parameters, 5. LE Set (Extended) Scan Enable.
//!
//! Extended scanning is chosen when supported-commands octet 37 has bits 5 and 6 (the kernel's
//! `use_ext_scan()` test; the LE feature bit 12 is used only if that read fails); a controller
//! that then answers "Unknown Command" to an extended command falls back to legacy.
//! "Command Disallowed" on parameters/enable means a scan is already running (another program
//! or a previous crash): disable it, then retry once. "Command Disallowed" in answer to that
//! *disable* means the scan was off (Broadcom, e.g. the Pi Zero W) and is ignored, there only.

use core::fmt;
use std::time::{Duration, Instant};

use super::command::{self, opcode, status, Command, ScanParams};
use super::event::EventKind;

/// How scanning is set up.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub params: ScanParams,
    /// Send HCI Reset first (H4 controllers that nobody else configures).
    pub reset: bool,
    /// Send Set Event Mask / LE Set Event Mask (not on a raw socket: the kernel owns them).
    pub set_event_masks: bool,
    /// Send nothing at all; only listen (bluetoothd already scans).
    pub listen_only: bool,
    /// Use extended scanning when the controller supports it (default true).
    pub allow_extended: bool,
    /// Use extended scanning even when the supported-commands bits do not list it (controllers
    /// that under-report; an "Unknown Command" answer still falls back to legacy).
    pub force_extended: bool,
    /// A command without reply for this long fails the setup.
    pub command_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            params: ScanParams::default(),
            reset: true,
            set_event_masks: true,
            listen_only: false,
            allow_extended: true,
            force_extended: false,
            command_timeout: Duration::from_secs(2),
        }
    }
}

/// Legacy (0x200B/0x200C) or extended (0x2041/0x2042) scan commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Legacy,
    Extended,
}

/// Where the setup is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Not started (or after [`ScanSetup::reset_link`]).
    Idle,
    Configuring,
    Scanning,
    /// Listen-only mode: nothing sent, reports expected anyway.
    Listening,
    Stopping,
    Stopped,
    Failed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Reset,
    ReadCommands,
    ReadFeatures,
    EventMask,
    LeEventMask,
    Params,
    Enable,
    /// Disable a running scan, then set parameters again.
    DisableThenParams,
    /// Disable a running scan, then enable again.
    DisableThenEnable,
    /// Disable for shutdown.
    Stop,
}

/// Why the setup failed. Displayed as a sentence for the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetupError {
    pub opcode: u16,
    /// `None`: no reply before the timeout.
    pub status: Option<u8>,
    pub hint: &'static str,
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = opcode::name(self.opcode);
        match self.status {
            None => write!(
                f,
                "{name} (0x{:04x}): no reply from the controller",
                self.opcode
            )?,
            Some(s) => write!(
                f,
                "{name} (0x{:04x}) failed: {} (0x{s:02x})",
                self.opcode,
                status::name(s)
            )?,
        }
        if !self.hint.is_empty() {
            write!(f, "; {}", self.hint)?;
        }
        Ok(())
    }
}

impl std::error::Error for SetupError {}

/// What a call changed, for the loop to log or act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// The scan is on.
    Scanning(Mode),
    /// The setup failed; the loop retries later with [`ScanSetup::start`].
    Failed(SetupError),
    /// The shutdown disable completed (or was not needed).
    Stopped,
    /// The controller reported a hardware error; the setup started over.
    Restarted(u8),
    /// A Command Complete for HCI Reset that this setup did not send: the controller was reset
    /// (by itself, or by another program through the kernel) and forgot its scan. While scanning
    /// the setup started over; while listening, whoever scans must be asked again.
    ControllerReset,
}

/// The scan-setup state machine.
#[derive(Clone, Debug)]
pub struct ScanSetup {
    opts: Options,
    phase: Phase,
    step: Option<Step>,
    /// The current step's command has been handed out and awaits its reply.
    sent: bool,
    deadline: Option<Instant>,
    mode: Mode,
    ext_by_commands: Option<bool>,
    ext_by_features: Option<bool>,
    /// A disable-and-retry was already done in this setup.
    retried_after_disable: bool,
    /// Extended commands were refused as unknown; legacy from now on.
    ext_refused: bool,
    error: Option<SetupError>,
    /// Commands answered with success in this setup (for logs and tests).
    pub completed: u32,
}

impl ScanSetup {
    pub fn new(opts: Options) -> ScanSetup {
        ScanSetup {
            opts,
            phase: Phase::Idle,
            step: None,
            sent: false,
            deadline: None,
            mode: Mode::Legacy,
            ext_by_commands: None,
            ext_by_features: None,
            retried_after_disable: false,
            ext_refused: false,
            error: None,
            completed: 0,
        }
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }
    pub fn phase(&self) -> Phase {
        self.phase
    }
    /// The scan commands in use (meaningful once parameters are being set).
    pub fn mode(&self) -> Mode {
        self.mode
    }
    pub fn error(&self) -> Option<SetupError> {
        self.error
    }
    /// Whether reports are expected now (scanning or listen-only).
    pub fn is_receiving(&self) -> bool {
        matches!(self.phase, Phase::Scanning | Phase::Listening)
    }

    /// (Re)starts the setup from the first step. Returns `Some(Transition)` when the setup is
    /// already done (listen-only).
    pub fn start(&mut self) -> Option<Transition> {
        self.sent = false;
        self.deadline = None;
        self.error = None;
        self.retried_after_disable = false;
        self.completed = 0;
        if self.opts.listen_only {
            self.phase = Phase::Listening;
            self.step = None;
            return None;
        }
        self.phase = Phase::Configuring;
        self.step = Some(if self.opts.reset {
            Step::Reset
        } else {
            Step::ReadCommands
        });
        None
    }

    /// Receives without sending anything from now on, whatever the options say: someone else
    /// (the kernel, for an advertisement monitor) runs the scan. A later [`ScanSetup::stop`]
    /// sends nothing and a Hardware Error does not restart a setup.
    pub fn listen(&mut self) {
        self.phase = Phase::Listening;
        self.step = None;
        self.sent = false;
        self.deadline = None;
        self.error = None;
    }

    /// The transport went away: forget any command in flight (a new link starts over).
    pub fn reset_link(&mut self) {
        self.phase = Phase::Idle;
        self.step = None;
        self.sent = false;
        self.deadline = None;
    }

    /// Disables the scan for shutdown. Returns `Some(Stopped)` when nothing needs sending.
    pub fn stop(&mut self) -> Option<Transition> {
        let scan_may_run = matches!(self.phase, Phase::Scanning)
            || (self.phase == Phase::Configuring
                && matches!(self.step, Some(Step::Enable | Step::DisableThenEnable)));
        if self.opts.listen_only || !scan_may_run {
            self.phase = Phase::Stopped;
            self.step = None;
            self.deadline = None;
            return Some(Transition::Stopped);
        }
        self.phase = Phase::Stopping;
        self.step = Some(Step::Stop);
        self.sent = false;
        self.deadline = None;
        None
    }

    /// The next command to send, if one is due. Each command is handed out once.
    pub fn poll_command(&mut self, now: Instant) -> Option<Command> {
        if self.sent {
            return None;
        }
        let step = self.step?;
        self.sent = true;
        self.deadline = Some(now + self.opts.command_timeout);
        Some(self.command_for(step))
    }

    /// When [`ScanSetup::handle_timeout`] must run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// Fails the setup if the command in flight got no reply in time.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<Transition> {
        let d = self.deadline?;
        if now < d || !self.sent {
            return None;
        }
        let step = self.step?;
        let op = self.command_for(step).opcode();
        if step == Step::Stop {
            self.finish_stop();
            return Some(Transition::Stopped);
        }
        Some(self.fail(
            op,
            None,
            "the controller does not answer (wrong port/baud rate, or not an HCI controller?)",
        ))
    }

    /// Feeds one HCI event. Events that do not answer the command in flight are ignored (on a
    /// raw socket other programs' Command Completes arrive too).
    pub fn handle_event(&mut self, ev: &EventKind<'_>) -> Option<Transition> {
        let (op, st, rp): (u16, u8, &[u8]) = match ev {
            EventKind::CommandComplete(cc) => (
                cc.opcode(),
                cc.status().unwrap_or(status::SUCCESS),
                cc.return_params(),
            ),
            EventKind::CommandStatus(cs) => {
                if cs.status() == status::SUCCESS {
                    // A pending command: its Command Complete follows (none of ours do this).
                    return None;
                }
                (cs.opcode(), cs.status(), &[])
            }
            EventKind::HardwareError(code) => {
                if matches!(self.phase, Phase::Configuring | Phase::Scanning) {
                    let code = *code;
                    self.start();
                    return Some(Transition::Restarted(code));
                }
                return None;
            }
            _ => return None,
        };
        let ours = self
            .step
            .is_some_and(|step| self.sent && op == self.command_for(step).opcode());
        if !ours {
            if op == opcode::RESET && st == status::SUCCESS {
                match self.phase {
                    Phase::Scanning => {
                        self.start();
                        return Some(Transition::ControllerReset);
                    }
                    Phase::Listening => return Some(Transition::ControllerReset),
                    _ => {}
                }
            }
            return None;
        }
        let step = self.step?;
        self.sent = false;
        self.deadline = None;
        if st == status::SUCCESS {
            self.completed += 1;
        }
        self.on_reply(step, op, st, rp)
    }

    fn command_for(&self, step: Step) -> Command {
        let ext = self.mode == Mode::Extended;
        match step {
            Step::Reset => Command::Reset,
            Step::ReadCommands => Command::ReadLocalSupportedCommands,
            Step::ReadFeatures => Command::LeReadLocalSupportedFeatures,
            Step::EventMask => Command::SetEventMask(command::EVENT_MASK),
            Step::LeEventMask => Command::LeSetEventMask(command::LE_EVENT_MASK),
            Step::Params if ext => Command::LeSetExtendedScanParameters(self.opts.params),
            Step::Params => Command::LeSetScanParameters(self.opts.params),
            Step::Enable if ext => Command::LeSetExtendedScanEnable(true),
            Step::Enable => Command::LeSetScanEnable(true),
            Step::DisableThenParams | Step::DisableThenEnable | Step::Stop if ext => {
                Command::LeSetExtendedScanEnable(false)
            }
            Step::DisableThenParams | Step::DisableThenEnable | Step::Stop => {
                Command::LeSetScanEnable(false)
            }
        }
    }

    fn go(&mut self, step: Step) -> Option<Transition> {
        self.step = Some(step);
        self.sent = false;
        None
    }

    fn fail(&mut self, op: u16, st: Option<u8>, hint: &'static str) -> Transition {
        let e = SetupError {
            opcode: op,
            status: st,
            hint,
        };
        self.phase = Phase::Failed;
        self.step = None;
        self.sent = false;
        self.deadline = None;
        self.error = Some(e);
        Transition::Failed(e)
    }

    fn finish_stop(&mut self) {
        self.phase = Phase::Stopped;
        self.step = None;
        self.sent = false;
        self.deadline = None;
    }

    fn choose_mode(&mut self) {
        let ext = self.opts.force_extended
            || self
                .ext_by_commands
                .or(self.ext_by_features)
                .unwrap_or(false);
        self.mode = if ext && self.opts.allow_extended && !self.ext_refused {
            Mode::Extended
        } else {
            Mode::Legacy
        };
    }

    fn after_features(&mut self) -> Option<Transition> {
        self.choose_mode();
        if self.opts.set_event_masks {
            self.go(Step::EventMask)
        } else {
            self.go(Step::Params)
        }
    }

    /// An extended command answered "unknown": use legacy and set parameters again.
    fn ext_fallback(&mut self, st: u8) -> Option<Option<Transition>> {
        if self.mode == Mode::Extended
            && matches!(st, status::UNKNOWN_COMMAND | status::UNSUPPORTED_FEATURE)
        {
            self.ext_refused = true;
            self.mode = Mode::Legacy;
            return Some(self.go(Step::Params));
        }
        None
    }

    fn on_reply(&mut self, step: Step, op: u16, st: u8, rp: &[u8]) -> Option<Transition> {
        const DISALLOWED_TWICE: &str = "the controller refuses to scan even after the running scan was disabled: \
             another program (bluetoothd?) is controlling the scan; stop it, or use listen-only mode";
        match step {
            Step::Reset => {
                if st != status::SUCCESS {
                    return Some(self.fail(op, Some(st), ""));
                }
                self.go(Step::ReadCommands)
            }
            Step::ReadCommands => {
                // status + 64 octets; a controller that cannot answer just gives no hint.
                let octet = 1 + command::EXT_SCAN_COMMANDS_OCTET;
                self.ext_by_commands = match rp.get(octet) {
                    Some(b) if st == status::SUCCESS => {
                        Some(b & command::EXT_SCAN_COMMANDS_BITS == command::EXT_SCAN_COMMANDS_BITS)
                    }
                    _ => None,
                };
                self.go(Step::ReadFeatures)
            }
            Step::ReadFeatures => {
                if st == status::UNKNOWN_COMMAND {
                    return Some(self.fail(
                        op,
                        Some(st),
                        "this controller has no Bluetooth Low Energy support",
                    ));
                }
                let octet = 1 + command::LE_FEATURE_EXT_ADV_OCTET;
                self.ext_by_features = match rp.get(octet) {
                    Some(b) if st == status::SUCCESS => {
                        Some(b & command::LE_FEATURE_EXT_ADV_BIT != 0)
                    }
                    _ => None,
                };
                self.after_features()
            }
            Step::EventMask => {
                if st != status::SUCCESS {
                    return Some(self.fail(op, Some(st), ""));
                }
                self.go(Step::LeEventMask)
            }
            Step::LeEventMask => {
                if st != status::SUCCESS {
                    return Some(self.fail(op, Some(st), ""));
                }
                self.go(Step::Params)
            }
            Step::Params => match st {
                status::SUCCESS => self.go(Step::Enable),
                status::COMMAND_DISALLOWED if !self.retried_after_disable => {
                    self.retried_after_disable = true;
                    self.go(Step::DisableThenParams)
                }
                status::COMMAND_DISALLOWED => Some(self.fail(op, Some(st), DISALLOWED_TWICE)),
                _ => match self.ext_fallback(st) {
                    Some(t) => t,
                    None => Some(self.fail(op, Some(st), "")),
                },
            },
            Step::Enable => match st {
                status::SUCCESS => {
                    self.phase = Phase::Scanning;
                    self.step = None;
                    Some(Transition::Scanning(self.mode))
                }
                status::COMMAND_DISALLOWED if !self.retried_after_disable => {
                    self.retried_after_disable = true;
                    self.go(Step::DisableThenEnable)
                }
                status::COMMAND_DISALLOWED => Some(self.fail(op, Some(st), DISALLOWED_TWICE)),
                _ => match self.ext_fallback(st) {
                    Some(t) => t,
                    None => Some(self.fail(op, Some(st), "")),
                },
            },
            Step::DisableThenParams | Step::DisableThenEnable => {
                // Disallowed here: the scan was off already (Broadcom); fine.
                if st != status::SUCCESS && st != status::COMMAND_DISALLOWED {
                    return Some(self.fail(op, Some(st), "could not disable the running scan"));
                }
                self.go(if step == Step::DisableThenParams {
                    Step::Params
                } else {
                    Step::Enable
                })
            }
            Step::Stop => {
                self.finish_stop();
                Some(Transition::Stopped)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hci::event::Event;

    /// Command Complete for `op` with return parameters `rp` (status first).
    fn cc(op: u16, rp: &[u8]) -> Vec<u8> {
        let mut v = vec![0x04, 0x0E, (3 + rp.len()) as u8, 0x01];
        v.extend_from_slice(&op.to_le_bytes());
        v.extend_from_slice(rp);
        v
    }
    fn cs(op: u16, st: u8) -> Vec<u8> {
        let mut v = vec![0x04, 0x0F, 4, st, 0x01];
        v.extend_from_slice(&op.to_le_bytes());
        v
    }
    /// Read Local Supported Commands reply: status + 64 octets, octet 37 as given.
    fn commands_reply(octet37: u8) -> Vec<u8> {
        let mut rp = vec![0u8; 65];
        rp[1 + 37] = octet37;
        rp[1..37].iter_mut().for_each(|b| *b = 0xFF);
        cc(opcode::READ_LOCAL_SUPPORTED_COMMANDS, &rp)
    }
    /// LE features reply (status + 8 octets). Bumble 0.0.236 answers `ff 79 01 00…` (bit 12 set).
    fn features_reply(ext: bool) -> Vec<u8> {
        cc(
            opcode::LE_READ_LOCAL_SUPPORTED_FEATURES,
            &[0, 0xFF, if ext { 0x79 } else { 0x69 }, 1, 0, 0, 0, 0, 0],
        )
    }
    fn ok(op: u16) -> Vec<u8> {
        cc(op, &[0])
    }
    fn feed(s: &mut ScanSetup, pkt: &[u8]) -> Option<Transition> {
        let ev = Event::new_checked(pkt).expect("valid event");
        s.handle_event(&ev.kind().expect("known event"))
    }

    /// Runs the setup against a scripted controller: for each command sent, `reply` gives the
    /// controller's answer. Returns the opcodes sent and the last transition.
    fn run(
        s: &mut ScanSetup,
        mut reply: impl FnMut(&Command) -> Vec<u8>,
    ) -> (Vec<Command>, Option<Transition>) {
        let now = Instant::now();
        let mut sent = Vec::new();
        let mut last = None;
        for _ in 0..32 {
            let Some(c) = s.poll_command(now) else { break };
            assert!(s.poll_command(now).is_none(), "one command at a time");
            sent.push(c);
            if let Some(t) = feed(s, &reply(&c)) {
                last = Some(t);
            }
        }
        (sent, last)
    }

    fn ops(cmds: &[Command]) -> Vec<u16> {
        cmds.iter().map(|c| c.opcode()).collect()
    }

    /// A well-behaved controller with or without extended scanning.
    fn controller(ext: bool) -> impl FnMut(&Command) -> Vec<u8> {
        move |c| match c {
            Command::ReadLocalSupportedCommands => commands_reply(if ext { 0x60 } else { 0x00 }),
            Command::LeReadLocalSupportedFeatures => features_reply(ext),
            c => ok(c.opcode()),
        }
    }

    use opcode::*;

    #[test]
    fn h4_controller_with_extended_scanning() {
        let mut s = ScanSetup::new(Options::default());
        assert!(s.start().is_none());
        let (sent, last) = run(&mut s, controller(true));
        assert_eq!(
            ops(&sent),
            [
                RESET,
                READ_LOCAL_SUPPORTED_COMMANDS,
                LE_READ_LOCAL_SUPPORTED_FEATURES,
                SET_EVENT_MASK,
                LE_SET_EVENT_MASK,
                LE_SET_EXTENDED_SCAN_PARAMETERS,
                LE_SET_EXTENDED_SCAN_ENABLE
            ]
        );
        assert_eq!(last, Some(Transition::Scanning(Mode::Extended)));
        assert_eq!(s.phase(), Phase::Scanning);
        assert!(s.is_receiving());
        assert_eq!(s.completed, 7);
        assert_eq!(sent[6], Command::LeSetExtendedScanEnable(true));
        assert_eq!(sent[3], Command::SetEventMask(command::EVENT_MASK));
    }

    #[test]
    fn controller_without_extended_scanning_uses_legacy() {
        let mut s = ScanSetup::new(Options::default());
        s.start();
        let (sent, last) = run(&mut s, controller(false));
        assert_eq!(
            &ops(&sent)[5..],
            [LE_SET_SCAN_PARAMETERS, LE_SET_SCAN_ENABLE]
        );
        assert_eq!(last, Some(Transition::Scanning(Mode::Legacy)));
        assert_eq!(sent[6], Command::LeSetScanEnable(true));
    }

    #[test]
    fn extended_can_be_refused_by_option() {
        let mut s = ScanSetup::new(Options {
            allow_extended: false,
            ..Options::default()
        });
        s.start();
        let (_, last) = run(&mut s, controller(true));
        assert_eq!(last, Some(Transition::Scanning(Mode::Legacy)));
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    /// Replies recorded from Bumble 0.0.236 over H4/TCP (`run --record`, tests/live_bumble.rs).
    fn bumble_0_0_236(c: &Command) -> Vec<u8> {
        match c {
            Command::ReadLocalSupportedCommands => unhex(
                "040e44010210002000800300c000000000e4000000a822000000000000040000f7ffff7f00000030f0f9ff01008004\
                 002000000000000000000000000000000000000000000000",
            ),
            Command::LeReadLocalSupportedFeatures => unhex("040e0c01032000ff79010000000000"),
            c => ok(c.opcode()),
        }
    }

    #[test]
    fn recorded_bumble_replies() {
        // Octet 37 of its supported commands lacks 0x2041/0x2042 (bits 5, 6) although its LE
        // features have bit 12 and it implements them: the kernel's rule says legacy.
        let r = bumble_0_0_236(&Command::ReadLocalSupportedCommands);
        assert_eq!(r.len(), 3 + 4 + 64);
        assert_eq!(r[7 + 37] & 0x60, 0);
        let mut s = ScanSetup::new(Options::default());
        s.start();
        let (sent, last) = run(&mut s, bumble_0_0_236);
        assert_eq!(last, Some(Transition::Scanning(Mode::Legacy)));
        assert_eq!(sent.len(), 7);
        let mut s = ScanSetup::new(Options {
            force_extended: true,
            ..Options::default()
        });
        s.start();
        let (_, last) = run(&mut s, bumble_0_0_236);
        assert_eq!(last, Some(Transition::Scanning(Mode::Extended)));
    }

    #[test]
    fn extended_can_be_forced_and_still_falls_back() {
        let mut s = ScanSetup::new(Options {
            force_extended: true,
            ..Options::default()
        });
        s.start();
        let (_, last) = run(&mut s, controller(false));
        assert_eq!(last, Some(Transition::Scanning(Mode::Extended)));
        let mut s = ScanSetup::new(Options {
            force_extended: true,
            ..Options::default()
        });
        s.start();
        let (_, last) = run(&mut s, |c| match c {
            Command::LeSetExtendedScanParameters(_) => {
                cc(LE_SET_EXTENDED_SCAN_PARAMETERS, &[status::UNKNOWN_COMMAND])
            }
            c => controller(false)(c),
        });
        assert_eq!(last, Some(Transition::Scanning(Mode::Legacy)));
    }

    #[test]
    fn raw_socket_options_skip_reset_and_masks() {
        let mut s = ScanSetup::new(Options {
            reset: false,
            set_event_masks: false,
            ..Options::default()
        });
        s.start();
        let (sent, last) = run(&mut s, controller(true));
        assert_eq!(
            ops(&sent),
            [
                READ_LOCAL_SUPPORTED_COMMANDS,
                LE_READ_LOCAL_SUPPORTED_FEATURES,
                LE_SET_EXTENDED_SCAN_PARAMETERS,
                LE_SET_EXTENDED_SCAN_ENABLE
            ]
        );
        assert_eq!(last, Some(Transition::Scanning(Mode::Extended)));
    }

    #[test]
    fn commands_bits_win_over_features_and_features_are_the_fallback() {
        // Commands say no (octet 37 = 0), features say yes: legacy, as the kernel decides.
        let mut s = ScanSetup::new(Options::default());
        s.start();
        let (_, last) = run(&mut s, |c| match c {
            Command::ReadLocalSupportedCommands => commands_reply(0x20), // only one of the two bits
            Command::LeReadLocalSupportedFeatures => features_reply(true),
            c => ok(c.opcode()),
        });
        assert_eq!(last, Some(Transition::Scanning(Mode::Legacy)));
        // Commands unreadable: features decide.
        let mut s = ScanSetup::new(Options::default());
        s.start();
        let (_, last) = run(&mut s, |c| match c {
            Command::ReadLocalSupportedCommands => {
                cc(READ_LOCAL_SUPPORTED_COMMANDS, &[status::UNKNOWN_COMMAND])
            }
            Command::LeReadLocalSupportedFeatures => features_reply(true),
            c => ok(c.opcode()),
        });
        assert_eq!(last, Some(Transition::Scanning(Mode::Extended)));
    }

    #[test]
    fn passive_default_active_option_and_interval() {
        let p = ScanParams::from_ms(true, Some(100.0), Some(50.0));
        let mut s = ScanSetup::new(Options {
            params: p,
            ..Options::default()
        });
        s.start();
        let (sent, _) = run(&mut s, controller(false));
        assert_eq!(
            format!("{:?}", sent[5].encode()),
            "01 0b 20 07 01 a0 00 50 00 00 00"
        );
        let mut s = ScanSetup::new(Options::default());
        s.start();
        let (sent, _) = run(&mut s, controller(true));
        assert_eq!(
            format!("{:?}", sent[5].encode()),
            "01 41 20 08 00 00 01 00 10 00 10 00"
        );
    }

    #[test]
    fn disallowed_on_enable_disables_then_enables() {
        let mut s = ScanSetup::new(Options::default());
        s.start();
        let mut enables = 0;
        let (sent, last) = run(&mut s, |c| match c {
            Command::LeSetScanEnable(true) => {
                enables += 1;
                cc(
                    LE_SET_SCAN_ENABLE,
                    &[if enables == 1 {
                        status::COMMAND_DISALLOWED
                    } else {
                        0
                    }],
                )
            }
            c => controller(false)(c),
        });
        assert_eq!(
            &sent[6..],
            [
                Command::LeSetScanEnable(true),
                Command::LeSetScanEnable(false),
                Command::LeSetScanEnable(true)
            ]
        );
        assert_eq!(last, Some(Transition::Scanning(Mode::Legacy)));
    }

    #[test]
    fn disallowed_when_disabling_an_off_scan_is_ignored() {
        // Broadcom (Pi Zero W): enable refused, the disable is refused too (scan was off).
        let mut s = ScanSetup::new(Options::default());
        s.start();
        let mut enables = 0;
        let (sent, last) = run(&mut s, |c| match c {
            Command::LeSetExtendedScanEnable(true) => {
                enables += 1;
                cc(
                    LE_SET_EXTENDED_SCAN_ENABLE,
                    &[if enables == 1 {
                        status::COMMAND_DISALLOWED
                    } else {
                        0
                    }],
                )
            }
            Command::LeSetExtendedScanEnable(false) => {
                cc(LE_SET_EXTENDED_SCAN_ENABLE, &[status::COMMAND_DISALLOWED])
            }
            c => controller(true)(c),
        });
        assert_eq!(sent.len(), 9);
        assert_eq!(last, Some(Transition::Scanning(Mode::Extended)));
    }

    #[test]
    fn disallowed_twice_fails_with_a_clear_message() {
        let mut s = ScanSetup::new(Options::default());
        s.start();
        let (sent, last) = run(&mut s, |c| match c {
            Command::LeSetScanEnable(true) => cc(LE_SET_SCAN_ENABLE, &[status::COMMAND_DISALLOWED]),
            c => controller(false)(c),
        });
        assert_eq!(sent.len(), 9);
        let Some(Transition::Failed(e)) = last else {
            panic!("{last:?}")
        };
        assert_eq!(e.status, Some(status::COMMAND_DISALLOWED));
        let msg = e.to_string();
        assert!(
            msg.contains("LE Set Scan Enable")
                && msg.contains("Command Disallowed")
                && msg.contains("bluetoothd"),
            "{msg}"
        );
        assert_eq!(s.phase(), Phase::Failed);
        assert!(s.poll_command(Instant::now()).is_none());
    }

    #[test]
    fn disallowed_on_parameters_disables_then_sets_them_again() {
        // Bumble and the kernel refuse parameters while a scan runs.
        let mut s = ScanSetup::new(Options::default());
        s.start();
        let mut scanning = true;
        let (sent, last) = run(&mut s, |c| match c {
            Command::LeSetScanParameters(_) if scanning => {
                cc(LE_SET_SCAN_PARAMETERS, &[status::COMMAND_DISALLOWED])
            }
            Command::LeSetScanEnable(false) => {
                scanning = false;
                ok(LE_SET_SCAN_ENABLE)
            }
            c => controller(false)(c),
        });
        assert_eq!(
            ops(&sent[5..]),
            [
                LE_SET_SCAN_PARAMETERS,
                LE_SET_SCAN_ENABLE,
                LE_SET_SCAN_PARAMETERS,
                LE_SET_SCAN_ENABLE
            ]
        );
        assert_eq!(sent[6], Command::LeSetScanEnable(false));
        assert_eq!(last, Some(Transition::Scanning(Mode::Legacy)));
    }

    #[test]
    fn unknown_extended_command_falls_back_to_legacy() {
        // Older Bumble: advertises the feature, answers 0x2041 with Unknown Command.
        let mut s = ScanSetup::new(Options::default());
        s.start();
        let (sent, last) = run(&mut s, |c| match c {
            Command::LeSetExtendedScanParameters(_) => {
                cc(LE_SET_EXTENDED_SCAN_PARAMETERS, &[status::UNKNOWN_COMMAND])
            }
            c => controller(true)(c),
        });
        assert_eq!(
            ops(&sent[5..]),
            [
                LE_SET_EXTENDED_SCAN_PARAMETERS,
                LE_SET_SCAN_PARAMETERS,
                LE_SET_SCAN_ENABLE
            ]
        );
        assert_eq!(last, Some(Transition::Scanning(Mode::Legacy)));
        // And it stays legacy on the next setup.
        s.start();
        let (sent, _) = run(&mut s, controller(true));
        assert_eq!(sent.last(), Some(&Command::LeSetScanEnable(true)));
    }

    #[test]
    fn other_failures_fail() {
        for bad in [
            RESET,
            SET_EVENT_MASK,
            LE_SET_EVENT_MASK,
            LE_SET_SCAN_PARAMETERS,
            LE_SET_SCAN_ENABLE,
        ] {
            let mut s = ScanSetup::new(Options::default());
            s.start();
            let (_, last) = run(&mut s, |c| {
                if c.opcode() == bad {
                    cc(bad, &[status::INVALID_PARAMETERS])
                } else {
                    controller(false)(c)
                }
            });
            let Some(Transition::Failed(e)) = last else {
                panic!("{bad:04x}: {last:?}")
            };
            assert_eq!(
                (e.opcode, e.status),
                (bad, Some(status::INVALID_PARAMETERS))
            );
        }
        // No LE at all.
        let mut s = ScanSetup::new(Options::default());
        s.start();
        let (_, last) = run(&mut s, |c| match c {
            Command::LeReadLocalSupportedFeatures => {
                cc(LE_READ_LOCAL_SUPPORTED_FEATURES, &[status::UNKNOWN_COMMAND])
            }
            c => controller(false)(c),
        });
        let Some(Transition::Failed(e)) = last else {
            panic!()
        };
        assert!(e.to_string().contains("Low Energy"));
    }

    #[test]
    fn failing_command_status_fails_and_pending_status_waits() {
        let mut s = ScanSetup::new(Options {
            reset: false,
            ..Options::default()
        });
        s.start();
        let now = Instant::now();
        assert_eq!(
            s.poll_command(now),
            Some(Command::ReadLocalSupportedCommands)
        );
        assert_eq!(feed(&mut s, &cs(READ_LOCAL_SUPPORTED_COMMANDS, 0)), None);
        assert!(
            s.poll_command(now).is_none(),
            "still waiting for the Command Complete"
        );
        let t = feed(
            &mut s,
            &cs(READ_LOCAL_SUPPORTED_COMMANDS, status::UNKNOWN_COMMAND),
        );
        assert_eq!(t, None, "unreadable commands are not fatal");
        assert_eq!(
            s.poll_command(now),
            Some(Command::LeReadLocalSupportedFeatures)
        );
        let t = feed(
            &mut s,
            &cs(LE_READ_LOCAL_SUPPORTED_FEATURES, status::UNKNOWN_COMMAND),
        );
        assert!(matches!(t, Some(Transition::Failed(_))));
    }

    #[test]
    fn replies_to_other_commands_are_ignored() {
        let mut s = ScanSetup::new(Options::default());
        s.start();
        let now = Instant::now();
        // Before anything is sent.
        assert_eq!(feed(&mut s, &ok(RESET)), None);
        assert_eq!(s.poll_command(now), Some(Command::Reset));
        // Another program's command completes (raw socket), and a NOP Command Complete.
        assert_eq!(feed(&mut s, &ok(0x0c14)), None);
        assert_eq!(feed(&mut s, &cc(0x0000, &[])), None);
        assert!(s.poll_command(now).is_none());
        assert_eq!(feed(&mut s, &ok(RESET)), None);
        assert_eq!(
            s.poll_command(now),
            Some(Command::ReadLocalSupportedCommands)
        );
        // An advertising report changes nothing.
        let adv = [
            0x04, 0x3E, 0x0C, 0x02, 0x01, 0x00, 0x00, 1, 2, 3, 4, 5, 6, 0x00, 0xC4,
        ];
        assert_eq!(feed(&mut s, &adv), None);
    }

    #[test]
    fn timeout_fails_the_setup() {
        let mut s = ScanSetup::new(Options::default());
        s.start();
        let t0 = Instant::now();
        assert_eq!(s.poll_command(t0), Some(Command::Reset));
        let d = s.poll_timeout().expect("armed");
        assert_eq!(d, t0 + Duration::from_secs(2));
        assert_eq!(s.handle_timeout(t0 + Duration::from_secs(1)), None);
        let Some(Transition::Failed(e)) = s.handle_timeout(d) else {
            panic!()
        };
        assert_eq!((e.opcode, e.status), (RESET, None));
        assert!(e.to_string().contains("no reply"));
        assert_eq!(s.poll_timeout(), None);
        // A retry starts over.
        s.start();
        assert_eq!(s.poll_command(d), Some(Command::Reset));
    }

    #[test]
    fn listening_for_the_kernel_sends_nothing_even_at_stop() {
        let mut s = ScanSetup::new(Options::default());
        s.listen();
        assert!(s.is_receiving());
        assert_eq!(s.poll_command(Instant::now()), None);
        assert_eq!(s.handle_event(&EventKind::HardwareError(1)), None);
        assert_eq!(s.poll_command(Instant::now()), None);
        assert_eq!(s.stop(), Some(Transition::Stopped));
        assert_eq!(s.poll_command(Instant::now()), None);
    }

    #[test]
    fn a_reset_someone_else_sent_restarts_the_scan() {
        let reset_cc = [0x04, 0x0E, 0x04, 0x01, 0x03, 0x0C, 0x00];
        let ev = crate::hci::event::Event::new_checked(&reset_cc)
            .unwrap()
            .kind()
            .unwrap();
        // While scanning: the setup starts over from its first command.
        let mut s = ScanSetup::new(Options::default());
        s.phase = Phase::Scanning;
        assert_eq!(s.handle_event(&ev), Some(Transition::ControllerReset));
        assert_eq!(s.phase(), Phase::Configuring);
        assert!(s.poll_command(Instant::now()).is_some());
        // While listening: reported, nothing sent.
        let mut s = ScanSetup::new(Options::default());
        s.listen();
        assert_eq!(s.handle_event(&ev), Some(Transition::ControllerReset));
        assert_eq!(s.poll_command(Instant::now()), None);
        // Idle (no link yet): ignored.
        let mut s = ScanSetup::new(Options::default());
        assert_eq!(s.handle_event(&ev), None);
    }

    #[test]
    fn listen_only_sends_nothing() {
        let mut s = ScanSetup::new(Options {
            listen_only: true,
            ..Options::default()
        });
        assert_eq!(s.start(), None);
        assert_eq!(s.phase(), Phase::Listening);
        assert!(s.is_receiving());
        assert!(s.poll_command(Instant::now()).is_none());
        assert_eq!(s.stop(), Some(Transition::Stopped));
        assert!(s.poll_command(Instant::now()).is_none());
    }

    #[test]
    fn stop_disables_a_running_scan() {
        for (ext, disable) in [
            (false, Command::LeSetScanEnable(false)),
            (true, Command::LeSetExtendedScanEnable(false)),
        ] {
            let mut s = ScanSetup::new(Options::default());
            s.start();
            run(&mut s, controller(ext));
            assert_eq!(s.stop(), None);
            assert_eq!(s.phase(), Phase::Stopping);
            let now = Instant::now();
            assert_eq!(s.poll_command(now), Some(disable));
            // Disallowed (scan was off) is as good as success here.
            assert_eq!(
                feed(&mut s, &cc(disable.opcode(), &[status::COMMAND_DISALLOWED])),
                Some(Transition::Stopped)
            );
            assert_eq!(s.phase(), Phase::Stopped);
        }
        // Stop with no answer: the timeout ends it.
        let mut s = ScanSetup::new(Options::default());
        s.start();
        run(&mut s, controller(false));
        s.stop();
        let now = Instant::now();
        assert!(s.poll_command(now).is_some());
        assert_eq!(
            s.handle_timeout(now + Duration::from_secs(3)),
            Some(Transition::Stopped)
        );
        // Stop before the scan could be on: nothing to send.
        let mut s = ScanSetup::new(Options::default());
        s.start();
        assert_eq!(s.stop(), Some(Transition::Stopped));
        assert!(s.poll_command(now).is_none());
    }

    #[test]
    fn hardware_error_restarts_and_lost_link_forgets() {
        let mut s = ScanSetup::new(Options::default());
        s.start();
        run(&mut s, controller(true));
        assert_eq!(
            feed(&mut s, &[0x04, 0x10, 0x01, 0x42]),
            Some(Transition::Restarted(0x42))
        );
        assert_eq!(s.phase(), Phase::Configuring);
        assert_eq!(s.poll_command(Instant::now()), Some(Command::Reset));
        s.reset_link();
        assert_eq!(s.phase(), Phase::Idle);
        assert!(s.poll_command(Instant::now()).is_none());
        assert_eq!(s.poll_timeout(), None);
    }
}
