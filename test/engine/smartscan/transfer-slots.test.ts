import assert from 'node:assert/strict'

import {TransferSlots} from '../../../src/engine/smartscan/transfer-slots.js'

const tick = () => new Promise<void>(resolve => {
  setImmediate(resolve)
})

describe('TransferSlots', () => {
  it('lets at most `limit` claims hold a slot, each taking it once however often it asks', async () => {
    const slots = new TransferSlots(2)
    const [a, b, c] = [slots.claim(), slots.claim(), slots.claim()]
    await a.take()
    await a.take()
    await b.take()
    let cGot = false
    const cTaking = c.take().then(() => {
      cGot = true
    })
    await tick()
    assert.equal(cGot, false)
    a.release()
    a.release()
    await cTaking
    assert.equal(cGot, true)
    // Releasing twice freed one slot only: a fourth claim waits until b or c lets go.
    const d = slots.claim()
    let dGot = false
    const dTaking = d.take().then(() => {
      dGot = true
    })
    await tick()
    assert.equal(dGot, false)
    b.release()
    await dTaking
  })

  it('hands on at once a slot obtained after the claim was released while waiting', async () => {
    const slots = new TransferSlots(1)
    const a = slots.claim()
    await a.take()
    const b = slots.claim()
    const bTaking = b.take()
    b.release()
    a.release()
    await bTaking
    const c = slots.claim()
    await c.take()
    c.release()
  })

  it('never holds a slot for a claim that did not ask for one', async () => {
    const slots = new TransferSlots(1)
    const idle = slots.claim()
    idle.release()
    const other = slots.claim()
    await other.take()
    other.release()
  })
})
