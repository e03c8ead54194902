// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./utils/Test.sol";
import {MeshToken} from "../../contracts/token/MeshToken.sol";
import {IMeshToken} from "../../contracts/interfaces/IMeshToken.sol";
import {ERC20Capped} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Capped.sol";

/// @dev Drives the token at random for the invariant runner: mints (some over the cap), burns, transfers.
contract MeshTokenHandler is Test {
    MeshToken public immutable token;
    address public immutable treasury;
    uint256 public minted;
    uint256 public burned;
    uint256 public rejectedOverCap;

    constructor(MeshToken token_, address treasury_) {
        token = token_;
        treasury = treasury_;
    }

    function mint(address to, uint256 amount) external {
        if (to == address(0)) to = treasury;
        amount = bound(amount, 0, token.MAX_SUPPLY());
        uint256 supply = token.totalSupply();
        if (supply + amount > token.MAX_SUPPLY()) {
            vm.expectRevert(
                abi.encodeWithSelector(ERC20Capped.ERC20ExceededCap.selector, supply + amount, token.MAX_SUPPLY())
            );
            token.mint(to, amount);
            rejectedOverCap++;
            return;
        }
        token.mint(to, amount);
        minted += amount;
    }

    function burnFromTreasury(uint256 amount) external {
        amount = bound(amount, 0, token.balanceOf(treasury));
        vm.prank(treasury);
        token.burn(amount);
        burned += amount;
    }

    function transferFromTreasury(address to, uint256 amount) external {
        if (to == address(0)) return;
        amount = bound(amount, 0, token.balanceOf(treasury));
        vm.prank(treasury);
        assertTrue(token.transfer(to, amount), "transfer failed");
    }
}

contract MeshTokenFuzzTest is Test {
    uint256 private constant GENESIS = 300_000_000e18;
    address private constant TREASURY = address(0x7AEA);

    MeshToken private token;
    MeshTokenHandler private handler;

    function setUp() public {
        token = new MeshToken(TREASURY, GENESIS, address(this));
        handler = new MeshTokenHandler(token, TREASURY);
        token.setMinter(address(handler));
        targetContract(address(handler));
    }

    /// @notice No sequence of mints (in any sizes) ever takes supply past the cap.
    function testFuzz_MintSequenceNeverPassesCap(uint256[8] memory amounts) public {
        MeshToken t = new MeshToken(TREASURY, GENESIS, address(this));
        t.setMinter(address(this));
        uint256 expected = GENESIS;
        for (uint256 i = 0; i < amounts.length; i++) {
            uint256 amount = bound(amounts[i], 0, 2 * t.MAX_SUPPLY());
            if (expected + amount > t.MAX_SUPPLY()) {
                vm.expectRevert(
                    abi.encodeWithSelector(ERC20Capped.ERC20ExceededCap.selector, expected + amount, t.MAX_SUPPLY())
                );
                t.mint(TREASURY, amount);
            } else {
                t.mint(TREASURY, amount);
                expected += amount;
            }
            assertEq(t.totalSupply(), expected, "supply tracks accepted mints");
            assertLe(t.totalSupply(), t.cap(), "supply <= cap");
        }
    }

    /// @notice Only the minter can mint, whoever else calls.
    function testFuzz_OnlyMinterMints(address caller, uint256 amount) public {
        vm.assume(caller != address(handler));
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IMeshToken.MeshUnauthorizedMinter.selector, caller));
        token.mint(caller, amount);
    }

    function invariant_SupplyNeverExceedsCap() public view {
        assertLe(token.totalSupply(), token.MAX_SUPPLY(), "supply <= cap");
    }

    function invariant_SupplyIsGenesisPlusMintedMinusBurned() public view {
        assertEq(token.totalSupply(), GENESIS + handler.minted() - handler.burned(), "supply accounting");
    }

    function invariant_VotesNeverExceedSupply() public view {
        assertLe(token.getVotes(TREASURY), token.totalSupply(), "votes <= supply");
    }
}
